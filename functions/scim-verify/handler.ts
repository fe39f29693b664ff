import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { RateLimiter } from "../lib/rate-limit";
import { storeFromEnv } from "../lib/store";
import { scimClientFactory } from "../scim-revoke/scim-revoke";
import { verifyAndRecord } from "./scim-verify";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => verifyAndRecord(event, { clientFor: scimClientFactory(catalogFromEnv(), new RateLimiter(storeFromEnv())), now: () => new Date(), store: storeFromEnv() }));
