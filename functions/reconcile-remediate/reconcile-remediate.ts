import { MetricUnit } from "@aws-lambda-powertools/metrics";
import * as z from "zod";
import { type AppRevocationDeps, startAppRevocation } from "../lib/app-revocation";
import { IdentityConflict } from "../lib/errors";
import { logger, metrics } from "../lib/observability";
import { type AppReport, appMarkdown, departedInLedger, type Finding, findingEventId, mergeReconcileItem, reconcileKeys, type ReconcileReport } from "../lib/reconcile";

export const RemediateInput = z.object({ runId: z.string().min(1) });

export type RemediationCounts = ReconcileReport["remediation"];

/**
 * "Start revocations for findings": for each orphan and revoked-but-active account, an app-scoped
 * revocation through `startAppRevocation`, which applies the mass-departure brake (and may hold it).
 * The ledger is first made to show the account: an orphan the ledger lacked is recorded (via
 * "reconcile"), a REVOKED record whose account came back is reopened, so the plan does not skip it.
 * Each finding's source event id is stable per run, so a replayed step starts nothing twice.
 */
export async function remediateFindings(rawInput: unknown, deps: AppRevocationDeps): Promise<RemediationCounts> {
  const { runId } = RemediateInput.parse(rawInput);
  const pk = reconcileKeys.pk(runId);
  const apps = (await deps.store.queryPrefix(pk, "APP#")) as unknown as Array<AppReport & { pk: string; sk: string }>;
  const counts: RemediationCounts = { enabled: true, started: 0, held: 0, duplicate: 0, skipped: 0, failed: 0 };
  for (const app of apps) {
    let changed = false;
    for (const finding of app.findings ?? []) {
      if (finding.kind !== "orphan" && finding.kind !== "revoked-but-active") continue;
      finding.remediation = await remediateOne(runId, finding, app.appName, deps);
      counts[finding.remediation.action]++;
      changed = true;
    }
    if (changed) {
      const { pk: _pk, sk: _sk, markdown: _md, ...report } = app as AppReport & { pk: string; sk: string; markdown?: string };
      await mergeReconcileItem(deps.store, runId, app.sk, { findings: app.findings, markdown: appMarkdown(report) });
    }
  }
  await mergeReconcileItem(deps.store, runId, reconcileKeys.summary, { remediation: counts });
  metrics.addMetric("ReconcileRevocationsStarted", MetricUnit.Count, counts.started);
  metrics.addMetric("ReconcileRevocationsHeld", MetricUnit.Count, counts.held);
  logger.info("reconciliation remediated", { runId, ...counts });
  return counts;
}

async function remediateOne(runId: string, finding: Finding, appName: string, deps: AppRevocationDeps): Promise<NonNullable<Finding["remediation"]>> {
  const now = deps.now().toISOString();
  const sourceEventId = findingEventId(runId, finding);
  try {
    let subjectId = finding.subjectId;
    if (!subjectId) {
      const email = finding.person ?? finding.account.emails[0]?.toLowerCase();
      if (!email) return { action: "skipped", note: "no email or ledger record to know the person by" };
      const hrId = finding.evidence.roster?.employeeId;
      subjectId = (await deps.store.resolveSubject({ email, ...(hrId ? { hrId } : {}) }, now)).subjectId;
    }
    const profile = await deps.store.getProfile(subjectId);
    if (profile?.status === "DEPARTING" && profile.currentRun) {
      return { action: "skipped", note: `offboarding run ${profile.currentRun} is in progress and owns this person's accounts` };
    }
    const account = await deps.store.getAccount(subjectId, finding.appId);
    if (account?.state === "REVOKED" && account.sourceEventId === sourceEventId) {
      // A replay after this finding's own revocation finished: reopening again would undo the record.
      return { action: "duplicate", note: "already revoked by this finding's revocation" };
    }
    if (!account) {
      await deps.store.recordArrival({
        subjectId,
        appId: finding.appId,
        appName,
        accountName: finding.account.userName ?? finding.account.emails[0],
        firstSeenAt: finding.account.created ?? now,
        via: "reconcile",
        source: "reconcile",
        sourceEventId,
        scimId: finding.account.scimId,
      });
    } else if (account.state === "REVOKED") {
      // Only an observation after the revocation reopens it (the store's own condition).
      const reopened = await deps.store.reopenRevokedAccount(subjectId, finding.appId, { occurredAt: now, sourceEventId, accountName: finding.account.userName ?? account.accountName });
      if (!reopened) return { action: "failed", note: "the REVOKED record could not be reopened (no revocation time on it); revoke by hand" };
    } else if (account.state === "RETAINED") {
      return { action: "skipped", note: "RETAINED by an owner's decision" };
    }
    // The listed SCIM id, so the revocation acts on exactly the account this run saw.
    await deps.store.setAccountState(subjectId, finding.appId, { state: !account || account.state === "REVOKED" ? "ACTIVE" : account.state, scimId: finding.account.scimId });
    const departed = profile ? departedInLedger(profile) : false;
    const outcome = await startAppRevocation(
      {
        subjectId,
        appIds: [finding.appId],
        kind: "reconcile",
        trigger: { source: "reconcile", sourceEventId, occurredAt: now, reason: `reconciliation ${runId}: ${finding.kind}${departed ? "" : ` (${finding.reason})`}`.slice(0, 500) },
      },
      deps,
    );
    return { action: outcome.action, runName: outcome.runName, ...(outcome.action === "held" ? { note: "held by the mass-departure brake (revoke brake status)" } : {}) };
  } catch (e) {
    if (!(e instanceof IdentityConflict)) throw e;
    return { action: "failed", note: e.message };
  }
}
