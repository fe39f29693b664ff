import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { GraphClient } from "../lib/graph";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { entraUserCheck } from "./entra-user-check";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => {
    const entra = catalogFromEnv().idp.entra;
    return entraUserCheck(event, { graph: () => (entra ? new GraphClient(entra) : undefined), store: storeFromEnv(), publish, now: () => new Date() });
  });
