import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { scimClientFactory } from "../scim-revoke/scim-revoke";
import { scimVerify } from "./scim-verify";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => scimVerify(event, { clientFor: scimClientFactory(catalogFromEnv()), now: () => new Date() }));
