import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { GraphClient } from "../lib/graph";
import { logger } from "../lib/observability";
import { OktaClient } from "../lib/okta";
import { RateLimiter } from "../lib/rate-limit";
import { cachedRoster } from "../lib/roster";
import { storeFromEnv } from "../lib/store";
import { scimClientFactory } from "../scim-revoke/scim-revoke";
import { idpStatusReader, reconcileApp } from "./reconcile-app";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => {
    const catalog = catalogFromEnv();
    const store = storeFromEnv();
    const limiter = new RateLimiter(store);
    const { okta, entra } = catalog.idp;
    return reconcileApp(event, {
      store,
      catalog,
      listAccounts: async function* (appId) {
        yield* (await scimClientFactory(catalog, limiter)(appId)).listUsers();
      },
      roster: () => (catalog.reconcile.roster ? cachedRoster(catalog.reconcile.roster, new Date()) : Promise.resolve(undefined)),
      idpStatus: idpStatusReader({
        okta: okta ? OktaClient.fromSettings(okta, fetch, limiter) : undefined,
        entra: entra ? new GraphClient(entra, fetch, () => new Date(), limiter) : undefined,
      }),
      now: () => new Date(),
    });
  });
