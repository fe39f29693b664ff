import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { publishCanonical } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger, metrics } from "../lib/observability";
import { resolveSecret } from "../lib/secrets";
import { oktaHook } from "./okta-hook";

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event) => {
    const catalog = catalogFromEnv();
    const ref = catalog.ingress.okta?.secretRef;
    return oktaHook(event, { catalog, publish: publishCanonical, secret: async () => (ref ? resolveSecret(ref) : undefined) });
  });
