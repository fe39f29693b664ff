import { type AppRevocationDeps, startAppRevocation } from "../lib/app-revocation";
import type { AppEntry } from "../lib/catalog";
import { ValidationError } from "../lib/errors";
import { identityEnvelope } from "../lib/events";
import { logger } from "../lib/observability";
import type { Profile } from "../lib/store";
import { triggerOf } from "../start-offboarding/start-offboarding";

/** Does anything still grant this person the app? Asked of the IdP, never inferred from one event. */
export type GrantCheck = (profile: Profile, app: AppEntry) => Promise<{ checked: boolean; stillGranted: string[] }>;

export interface MoverDeps extends AppRevocationDeps {
  remainingGrants: GrantCheck;
}

export type MoverOutcome =
  | { action: "ignored"; reason: string }
  | { action: "kept"; subjectId: string; appId: string; grantedBy: string[] }
  | { action: "started" | "held" | "duplicate"; subjectId: string; appId: string; runName: string };

const CLOSED = new Set(["REVOKED", "RETAINED"]);

/**
 * Identity.RoleChanged → a mover keeps only what their new role grants. When a group or assignment
 * that granted an app is removed, the IdP is asked what still grants it (events arrive late and out of
 * order: a "removed" processed after a later "added" must not revoke, so the event alone is not
 * trusted). Nothing left → that app's account is revoked through the offboard run's per-app path,
 * verified and recorded; the person stays ACTIVE everywhere else.
 */
export async function handleRoleChange(rawEnvelope: unknown, deps: MoverDeps): Promise<MoverOutcome> {
  const { detail } = identityEnvelope(rawEnvelope);
  if (!detail.app) throw new ValidationError("Identity.RoleChanged without app");
  if (detail.grant?.change !== "removed") return { action: "ignored", reason: "access added: the account is recorded at its first sign-in" };
  const appId = detail.app.id;
  const profile = await deps.store.findSubject(detail.subject);
  if (!profile) return { action: "ignored", reason: "nobody with these identifiers is in the ledger" };
  if (profile.status !== "ACTIVE") return { action: "ignored", reason: `the person is ${profile.status}: their offboarding covers every app` };
  const account = await deps.store.getAccount(profile.subjectId, appId);
  if (!account || CLOSED.has(account.state)) return { action: "ignored", reason: account ? `the account is already ${account.state}` : "no account recorded in this app" };
  const app = deps.catalog.apps.find((a) => a.id === appId);
  if (!app) return { action: "ignored", reason: `app ${appId} is not in the catalog` };

  const grants = await deps.remainingGrants(profile, app);
  if (grants.stillGranted.length > 0) {
    logger.info("mover keeps the app: still granted", { subjectId: profile.subjectId, appId, grantedBy: grants.stillGranted });
    return { action: "kept", subjectId: profile.subjectId, appId, grantedBy: grants.stillGranted };
  }
  // Unchecked (no IdP API configured) errs towards revoking: a wrongly revoked JIT account comes back at
  // the next sign-in, a wrongly kept one is the very gap this product closes.
  const because = grants.checked ? `nothing else grants ${appId}` : `remaining grants not checked (no Okta API configured)`;
  const trigger = { ...triggerOf(detail), reason: `${detail.reason ?? "access removed"}; ${because}` };
  const started = await startAppRevocation({ subjectId: profile.subjectId, appIds: [appId], trigger, kind: "mover" }, deps);
  return { action: started.action, subjectId: profile.subjectId, appId, runName: started.runName };
}
