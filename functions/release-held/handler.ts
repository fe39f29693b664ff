import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger, metrics } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { startOffboardExecution } from "../start-offboarding/start-offboarding";
import { releaseHeld } from "./release-held";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event: unknown) =>
    releaseHeld(event, { store: storeFromEnv(), catalog: catalogFromEnv(), publish, startExecution: startOffboardExecution, now: () => new Date() }),
  );
