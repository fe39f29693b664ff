import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { sfnClient } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { resolveSecret } from "../lib/secrets";
import { storeFromEnv } from "../lib/store";
import { taskPage } from "./task-page";

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => {
    const ref = catalogFromEnv().notify.linkSecretRef;
    return taskPage(event, { store: storeFromEnv(), send: (c) => sfnClient().send(c as never), linkSecret: async () => (ref ? resolveSecret(ref) : undefined), now: () => new Date() });
  });
