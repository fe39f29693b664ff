import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { cachedRoster } from "../lib/roster";
import { storeFromEnv } from "../lib/store";
import { planReconciliation } from "./reconcile-plan";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => {
    const catalog = catalogFromEnv();
    const roster = catalog.reconcile.roster;
    return planReconciliation(event, { store: storeFromEnv(), catalog, roster: () => (roster ? cachedRoster(roster, new Date(), catalog.reconcile.rosterAuthorizationRef) : Promise.resolve(undefined)), now: () => new Date() });
  });
