import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { closeRun } from "./close-run";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => closeRun(event, { store: storeFromEnv(), publish, now: () => new Date() }));
