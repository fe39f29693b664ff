import type { Catalog } from "../lib/catalog";
import { OffboardInput, type Plan, type PlanApp, type PlanIdp } from "../lib/runs";
import type { Account, Profile, Store } from "../lib/store";

export interface PlanDeps {
  store: Store;
  catalog: Catalog;
}

const DONE_STATES = new Set(["REVOKED", "RETAINED"]);

function actionFor(app: PlanApp["mode"], deactivate?: string): string {
  if (app === "scim") return `SCIM ${deactivate === "delete" ? "DELETE" : "PATCH active=false"}, then read back`;
  if (app === "manual") return "a task to the app owner (then the backup owner) to remove it and confirm";
  return "none available: app not in the catalog (needs attention)";
}

/**
 * Plan: the subject, every recorded account, and the catalog → what will be done to each account.
 * Read-only, so a dry run is exactly this step. Accounts already REVOKED (or RETAINED by an owner's
 * decision) are listed as skipped; re-running a finished offboarding therefore does nothing twice.
 */
export async function planOffboarding(rawInput: unknown, deps: PlanDeps): Promise<Plan> {
  const input = OffboardInput.parse(rawInput);
  const profile = input.subjectId ? await deps.store.getProfile(input.subjectId) : await deps.store.findSubject(input.subject!);
  const frontDoorOnly = input.action === "suspend";
  const scope = input.action === "revoke-apps" ? ("apps" as const) : ("person" as const);
  const base = { runName: input.runName, dryRun: input.dryRun, trigger: input.trigger, frontDoorOnly, scope };
  if (!profile) {
    return { ...base, subjectId: input.subjectId ?? "unknown", subjectStatus: "UNKNOWN", idps: [], apps: [], skipped: [] };
  }
  // A mover keeps their IdP account and sessions: only the apps they no longer hold are revoked.
  const idps = input.action === "revoke-apps" ? [] : idpsFor(profile, deps.catalog, input.action);
  if (frontDoorOnly) return { ...base, subjectId: profile.subjectId, subjectStatus: profile.status, idps, apps: [], skipped: [] };
  let accounts: Account[] = await deps.store.listAccounts(profile.subjectId);
  if (input.appIds) accounts = accounts.filter((a) => input.appIds!.includes(a.appId));
  const apps: PlanApp[] = [];
  const skipped: Plan["skipped"] = [];
  for (const account of accounts.sort((a, b) => a.appId.localeCompare(b.appId))) {
    if (DONE_STATES.has(account.state)) {
      skipped.push({ appId: account.appId, state: account.state, reason: `already ${account.state.toLowerCase()}` });
      continue;
    }
    const entry = deps.catalog.apps.find((a) => a.id === account.appId);
    const mode: PlanApp["mode"] = entry?.mode ?? "unmapped";
    apps.push({
      appId: account.appId,
      appName: entry?.name ?? account.appName ?? account.appId,
      mode,
      accountName: account.accountName,
      emails: profile.emails,
      scimId: account.scimId,
      action: actionFor(mode, entry?.scim?.deactivate),
      ...(entry?.mode === "manual"
        ? {
            owner: entry.owner,
            backupOwner: entry.backupOwner ?? entry.owner,
            taskTimeoutSeconds: entry.manual.timeoutSeconds,
            taskHeartbeatSeconds: Math.max(1, Math.floor(entry.manual.timeoutSeconds * 0.75)),
          }
        : {}),
    });
  }
  return { ...base, subjectId: profile.subjectId, subjectStatus: profile.status, idps, apps, skipped };
}

/**
 * The IdPs this person lives in: each configured IdP, addressed by the linked id when there is one,
 * else by login (Okta) or user principal name (Entra), which is their email in most tenants.
 */
function idpsFor(profile: Profile, catalog: Catalog, action: "offboard" | "suspend" | "revoke-apps"): PlanIdp[] {
  const email = profile.emails[0];
  const idps: PlanIdp[] = [];
  const okta = catalog.idp.okta;
  if (okta && (profile.oktaId || email)) {
    idps.push({ id: "okta", userRef: profile.oktaId ?? email!, action: action === "suspend" ? "suspend" : okta.onDeparture });
  }
  if (catalog.idp.entra && (profile.entraId || email)) {
    idps.push({ id: "entra", userRef: profile.entraId ?? email!, action: action === "suspend" ? "suspend" : "deactivate" });
  }
  return idps;
}
