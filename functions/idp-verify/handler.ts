import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { RateLimiter } from "../lib/rate-limit";
import { storeFromEnv } from "../lib/store";
import { idpClientFactory } from "../idp-revoke/idp-revoke";
import { idpVerify } from "./idp-verify";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => idpVerify(event, { clientFor: idpClientFactory(catalogFromEnv(), fetch, new RateLimiter(storeFromEnv())) }));
