import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { GraphClient } from "../lib/graph";
import { logger } from "../lib/observability";
import { resolveSecret } from "../lib/secrets";
import { storeFromEnv } from "../lib/store";
import { manageGraphSubscription } from "./graph-subscription";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => {
    const { idp, ingress } = catalogFromEnv();
    return manageGraphSubscription(event, {
      graph: () => (idp.entra ? new GraphClient(idp.entra) : undefined),
      settings: async () => (ingress.graph ? { ...ingress.graph, clientState: await resolveSecret(ingress.graph.clientStateRef) } : undefined),
      store: storeFromEnv(),
      publish,
      now: () => new Date(),
    });
  });
