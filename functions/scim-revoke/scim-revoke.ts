import type { Catalog } from "../lib/catalog";
import { Permanent, Transient } from "../lib/errors";
import { logger } from "../lib/observability";
import type { RateLimiter } from "../lib/rate-limit";
import { AppStepInput } from "../lib/runs";
import { ScimClient, type ScimEvidence } from "../lib/scim";
import type { Store } from "../lib/store";

export interface ScimStepDeps {
  store: Store;
  catalog: Catalog;
  clientFor: (appId: string) => Promise<ScimClient>;
  now: () => Date;
  /** How long to wait for another run revoking the same account (default 15 s). */
  claimWaitMs?: number;
}

export interface RevokeResult {
  scimId: string | null;
  found: boolean;
  revokedAt: string;
  evidence: ScimEvidence[];
}

/** Every field is always present: the ASL's ResultSelector picks them by path, and a missing path fails on AWS. */
export async function scimRevoke(rawInput: unknown, deps: ScimStepDeps): Promise<RevokeResult> {
  const { subjectId, runName, app } = AppStepInput.parse(rawInput);
  const revokedByAnother = await claimOrWait(subjectId, app.appId, runName, deps);
  if (revokedByAnother) return revokedByAnother;
  const client = await deps.clientFor(app.appId);
  try {
    let scimId = app.scimId;
    let user = scimId ? await client.getUser(scimId) : await client.findUser([app.accountName ?? "", ...app.emails]);
    if (!user && !scimId) {
      // An earlier attempt of this step may have found the account, recorded its id and deleted it, and
      // then lost the app's answer (a reset, a timeout): by that id, a 404 is the deletion, not a mystery.
      scimId = (await deps.store.getAccount(subjectId, app.appId))?.scimId;
      if (scimId) user = await client.getUser(scimId);
    }
    if (!user && !scimId) {
      // An arrival was recorded, so the account existed. Not finding it is not proof it is gone (the
      // app may spell the name differently): it needs a person, never "revoked".
      throw new Permanent(`no account matching the recorded sign-in name was found in ${app.appId}; cannot revoke or verify`);
    }
    if (user) {
      // Before a DELETE the app's id must be on record: if its answer is lost, a 404 by that id is the
      // deletion (see above), where a search by name finds nothing either way. A PATCHed account is
      // still found by name, and the id is recorded with the outcome: one table write less per app.
      const deletes = deps.catalog.apps.find((a) => a.id === app.appId)?.scim?.deactivate === "delete";
      if (deletes && user.id !== app.scimId) await deps.store.setAccountState(subjectId, app.appId, { state: "REVOKING", scimId: user.id });
      // Roles first, so nothing the account can still do outlives the deactivation below.
      if (client.managesGroups) for (const group of await client.groupsOf(user.id)) await client.removeFromGroup(group.id, user.id);
      // Already inactive (an earlier attempt's deactivation landed but its answer was lost): deactivating
      // again would be a second revocation at the app; the read-back still proves the state.
      if (user.active !== false) await client.deactivate(user.id);
    }
    logger.info("scim deactivation sent", { subjectId, appId: app.appId, found: Boolean(user) });
    return { scimId: user?.id ?? null, found: Boolean(user), revokedAt: deps.now().toISOString(), evidence: client.evidence };
  } catch (e) {
    logger.warn("scim deactivation failed", { subjectId, appId: app.appId, error: (e as Error).name });
    throw e;
  }
}

/** How long a run waits for another run revoking the same account, and when that run's claim is stale. */
const CLAIM_WAIT_MS = 15_000;
const CLAIM_STALE_MS = 10 * 60_000;

/**
 * One run at a time revokes an account: a tripwire run and the offboarding (or two tripwires) can both
 * hold it, and both deactivating it is a second revocation at the app. This run claims it; while another
 * run holds it, this one waits: once that run has REVOKED it there is nothing left to send (the
 * read-back still runs here), and if it failed this run claims it and tries. Waiting too long is
 * Transient (the state machine retries); a claim older than CLAIM_STALE_MS (a run that died) is taken over.
 */
async function claimOrWait(subjectId: string, appId: string, runName: string, deps: ScimStepDeps): Promise<RevokeResult | undefined> {
  const deadline = Date.now() + (deps.claimWaitMs ?? CLAIM_WAIT_MS);
  for (;;) {
    const now = deps.now();
    if (await deps.store.claimAccount(subjectId, appId, runName, now.toISOString(), new Date(now.getTime() - CLAIM_STALE_MS).toISOString())) return undefined;
    const account = await deps.store.getAccount(subjectId, appId);
    if (account?.state === "REVOKED") return { scimId: account.scimId ?? null, found: Boolean(account.scimId), revokedAt: account.revokedAt ?? now.toISOString(), evidence: [] };
    // No record, or RETAINED (never planned): as before, nothing to claim.
    if (account?.state !== "REVOKING") return undefined;
    if (Date.now() >= deadline) throw new Transient(`${appId} is being revoked by run ${account.lastRun ?? "?"}; trying again later`);
    logger.info("account is being revoked by another run; waiting", { subjectId, appId, otherRun: account.lastRun });
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function scimClientFactory(catalog: Catalog, limiter?: RateLimiter): (appId: string) => Promise<ScimClient> {
  return (appId) => {
    const app = catalog.apps.find((a) => a.id === appId);
    if (!app?.scim) throw new Permanent(`app ${appId} has no SCIM settings in the catalog`);
    return ScimClient.forApp(app, fetch, limiter);
  };
}
