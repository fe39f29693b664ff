import type { Catalog } from "../lib/catalog";
import { OktaClient } from "../lib/okta";
import type { RateLimiter } from "../lib/rate-limit";
import type { GrantCheck } from "./mover";

/**
 * Okta: the catalog's granting groups the person is still in, and the app instances still assigned to
 * them (Okta's app-user read includes assignments through any group, catalogued or not).
 */
export function oktaGrantCheck(catalog: Catalog, limiter?: RateLimiter, fetchImpl: typeof fetch = fetch): GrantCheck {
  return async (profile, app) => {
    const settings = catalog.idp.okta;
    if (!settings) return { checked: false, stillGranted: [] };
    const okta = OktaClient.fromSettings(settings, fetchImpl, limiter);
    const userId = profile.oktaId ?? (profile.emails[0] ? (await okta.getUser(profile.emails[0]))?.id : undefined);
    if (!userId) return { checked: true, stillGranted: [] };
    const stillGranted: string[] = [];
    if (app.okta.groupIds.length > 0) {
      const groups = new Set(await okta.groupIdsOf(userId));
      stillGranted.push(...app.okta.groupIds.filter((g) => groups.has(g)).map((g) => `group ${g}`));
    }
    for (const instance of app.okta.appInstanceIds) {
      if (await okta.isAssigned(instance, userId)) stillGranted.push(`assignment to ${instance}`);
    }
    return { checked: true, stillGranted };
  };
}
