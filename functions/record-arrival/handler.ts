import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { startOffboardExecution } from "../start-offboarding/start-offboarding";
import { recordArrival } from "./record-arrival";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) =>
    recordArrival(event, { store: storeFromEnv(), catalog: catalogFromEnv(), startExecution: startOffboardExecution, publish, now: () => new Date() }),
  );
