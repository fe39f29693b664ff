import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { resolveSecret } from "../lib/secrets";
import { graphHook } from "./graph-hook";

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => {
    const ref = catalogFromEnv().ingress.graph?.clientStateRef;
    return graphHook(event, { publish, clientState: async () => (ref ? resolveSecret(ref) : undefined) });
  });
