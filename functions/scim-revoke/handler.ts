import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { RateLimiter } from "../lib/rate-limit";
import { storeFromEnv } from "../lib/store";
import { scimClientFactory, scimRevoke } from "./scim-revoke";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => {
    const catalog = catalogFromEnv();
    return scimRevoke(event, { store: storeFromEnv(), catalog, clientFor: scimClientFactory(catalog, new RateLimiter(storeFromEnv())), now: () => new Date() });
  });
