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

const halfOf = (perMinute: number) => Math.max(1, Math.floor(perMinute / 2));

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
      roster: () => (catalog.reconcile.roster ? cachedRoster(catalog.reconcile.roster, new Date(), catalog.reconcile.rosterAuthorizationRef) : Promise.resolve(undefined)),
      // The same rate-limit buckets as offboarding, with half the ceiling: a reconciliation never takes the
      // calls a departure needs to close the front door.
      idpStatus: idpStatusReader({
        okta: okta ? OktaClient.fromSettings({ ...okta, rateLimitPerMinute: halfOf(okta.rateLimitPerMinute) }, fetch, limiter) : undefined,
        entra: entra ? new GraphClient({ ...entra, rateLimitPerMinute: halfOf(entra.rateLimitPerMinute) }, fetch, () => new Date(), limiter) : undefined,
      }),
      now: () => new Date(),
    });
  });
