import type { Catalog } from "../lib/catalog";
import { ValidationError } from "../lib/errors";
import { expiryFor } from "../lib/expiry";
import { DetailType, identityEnvelope } from "../lib/events";
import { logger } from "../lib/observability";
import { runNameFor } from "../lib/runs";
import type { Store } from "../lib/store";
import type { StartDeps } from "../start-offboarding/start-offboarding";
import { triggerOf } from "../start-offboarding/start-offboarding";

export interface ArrivalDeps {
  store: Store;
  catalog: Catalog;
  startExecution: StartDeps["startExecution"];
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now: () => Date;
}

export type ArrivalOutcome =
  | { action: "recorded"; subjectId: string; appId: string }
  | { action: "duplicate"; subjectId: string; appId: string }
  | { action: "tripwire"; subjectId: string; appId: string; runName: string };

/**
 * Identity.Arrived → an ACCOUNT record (first arrival wins; a replay is a no-op and keeps the first
 * source event id). An arrival for a person who has already departed is the tripwire: that account is
 * revoked at once and the run is flagged for attention.
 */
export async function recordArrival(rawEnvelope: unknown, deps: ArrivalDeps): Promise<ArrivalOutcome> {
  const { detail } = identityEnvelope(rawEnvelope);
  if (!detail.app) throw new ValidationError("Identity.Arrived without app");
  const now = deps.now().toISOString();
  const profile = await deps.store.resolveSubject(detail.subject, now);
  const subjectId = profile.subjectId;
  const appId = detail.app.id;
  const catalogApp = deps.catalog.apps.find((a) => a.id === appId);
  const { recorded: firstSeen, account } = await deps.store.recordArrival({
    subjectId,
    appId,
    appName: catalogApp?.name ?? detail.app.name,
    accountName: detail.app.accountName,
    firstSeenAt: detail.occurredAt,
    via: detail.app.via ?? "jit-sso",
    source: detail.source,
    sourceEventId: detail.sourceEventId,
  });
  const reopened = !firstSeen && account.state === "REVOKED" && (await deps.store.reopenRevokedAccount(subjectId, appId, { occurredAt: detail.occurredAt, sourceEventId: detail.sourceEventId, accountName: detail.app.accountName }));
  const recorded = firstSeen || reopened;
  if (reopened) logger.warn("sign-in after revocation: account reopened", { subjectId, appId });

  // After departure, any new sign-in trips the wire: a new account, a reopened one, or a sign-in into one
  // that is not revoked yet. A replay of an arrival already on record does not.
  const newSignIn = recorded || (account.sourceEventId !== detail.sourceEventId && account.state !== "REVOKED");
  if (recorded && profile.status === "ACTIVE") {
    const expiry = expiryFor(detail, catalogApp, deps.catalog.expiry);
    if (expiry) {
      await deps.store.setExpiry({ subjectId, appId, ...expiry, by: detail.source, reason: expiry.basis, now });
      logger.info("account is time-boxed", { subjectId, appId, expiresAt: expiry.expiresAt });
    }
  }
  if (profile.status === "ACTIVE" || !newSignIn) {
    logger.info(recorded ? "arrival recorded" : "duplicate arrival", { subjectId, appId });
    return { action: recorded ? "recorded" : "duplicate", subjectId, appId };
  }

  // Tripwire. Named after the arrival, so a replay of the same late arrival cannot start a second run.
  const runName = runNameFor(subjectId, detail.sourceEventId, "tripwire");
  const trigger = { ...triggerOf(detail), reason: "arrival after departure" };
  await deps.store.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}`, subjectId, runName, trigger, dryRun: false, status: "RUNNING", startedAt: now, results: [] });
  await deps.startExecution(runName, { runName, subjectId, trigger, dryRun: false, appIds: [appId] });
  await deps.publish([
    { detailType: DetailType.OffboardingNeedsAttention, detail: { subjectId, runName, appId, reason: "arrival after departure", subjectStatus: profile.status, occurredAt: detail.occurredAt } },
  ]);
  logger.warn("arrival after departure: revoking", { subjectId, appId, runName });
  return { action: "tripwire", subjectId, appId, runName };
}

