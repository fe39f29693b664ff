import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { recordAppOutcome } from "./record-app-outcome";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => recordAppOutcome(event, { store: storeFromEnv() }));
