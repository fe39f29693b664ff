import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { notifierFor } from "../lib/notifier";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { notifyOwner } from "./notify-owner";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => notifyOwner(event, { store: storeFromEnv(), notify: notifierFor(catalogFromEnv()), now: () => new Date() }));
