import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { startOffboardExecution, startOffboarding } from "./start-offboarding";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => startOffboarding(event, { store: storeFromEnv(), startExecution: startOffboardExecution, now: () => new Date() }));
