import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { logger, metrics } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { closeRun } from "./close-run";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event: unknown) => closeRun(event, { store: storeFromEnv(), publish, now: () => new Date() }));
