import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { startDueDepartures } from "./start-due-departures";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(() => startDueDepartures({ store: storeFromEnv(), publish, now: () => new Date() }));
