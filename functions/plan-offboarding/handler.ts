import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { planOffboarding } from "./plan-offboarding";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => planOffboarding(event, { store: storeFromEnv(), catalog: catalogFromEnv() }));
