import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { publishCanonical } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { resolveSecret } from "../lib/secrets";
import { oktaHook } from "./okta-hook";

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => {
    const catalog = catalogFromEnv();
    const ref = catalog.ingress.okta?.secretRef;
    return oktaHook(event, { catalog, publish: publishCanonical, secret: async () => (ref ? resolveSecret(ref) : undefined) });
  });
