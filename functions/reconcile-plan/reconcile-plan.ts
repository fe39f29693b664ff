import type { Catalog } from "../lib/catalog";
import { logger } from "../lib/observability";
import { emptyCounts, ReconcileInput, reconcileKeys, type ReconcileSummary } from "../lib/reconcile";
import type { Roster } from "../lib/roster";
import type { Store } from "../lib/store";

export interface ReconcilePlanDeps {
  store: Store;
  catalog: Catalog;
  roster: () => Promise<Roster | undefined>;
  now: () => Date;
}

export interface ReconcilePlan {
  runId: string;
  remediate: boolean;
  /** What the Map iterates over: objects, so that a Catch can add its error beside them. */
  apps: Array<{ appId: string }>;
}

/**
 * "List apps to reconcile": every app with a list API (SCIM), or the ones asked for. Reads the roster
 * once up front, so that an unreadable or malformed export stops the run before any app is listed.
 * The run's summary item is created once; a replayed step keeps the first start time.
 */
export async function planReconciliation(rawInput: unknown, deps: ReconcilePlanDeps): Promise<ReconcilePlan> {
  const input = ReconcileInput.parse(rawInput);
  const roster = await deps.roster();
  const wanted = input.appIds ? [...new Set(input.appIds)] : deps.catalog.apps.map((a) => a.id);
  const apps: ReconcilePlan["apps"] = [];
  const skipped: ReconcileSummary["skipped"] = [];
  for (const appId of wanted) {
    const app = deps.catalog.apps.find((a) => a.id === appId);
    if (!app) skipped.push({ appId, reason: "not in the app catalog" });
    else if (app.mode !== "scim" || !app.scim) skipped.push({ appId, reason: "no list API (manual app: its owner keeps the account list)" });
    else apps.push({ appId });
  }
  const remediate = deps.catalog.reconcile.remediate;
  const summary: ReconcileSummary = {
    runId: input.runId,
    status: "RUNNING",
    requestedBy: input.requestedBy,
    startedAt: deps.now().toISOString(),
    ...(roster ? { roster: { source: roster.source, people: roster.entries.length, departed: roster.entries.filter((e) => e.departed).length, ignoredRows: roster.ignoredRows } } : {}),
    appIds: apps.map((a) => a.appId),
    skipped,
    totals: emptyCounts(),
    remediate,
    remediation: { enabled: remediate, started: 0, held: 0, duplicate: 0, skipped: 0, failed: 0 },
  };
  await deps.store.putIfAbsent({ pk: reconcileKeys.pk(input.runId), sk: reconcileKeys.summary, ...summary });
  // Indexed by the first attempt's start time, so a retried step does not index the run twice.
  const startedAt = String((await deps.store.getItem(reconcileKeys.pk(input.runId), reconcileKeys.summary))?.startedAt ?? summary.startedAt);
  await deps.store.putIfAbsent({ pk: reconcileKeys.index, sk: reconcileKeys.indexEntry(startedAt, input.runId), runId: input.runId, startedAt, requestedBy: input.requestedBy });
  logger.info("reconciliation planned", { runId: input.runId, apps: apps.length, skipped: skipped.length, roster: Boolean(roster) });
  return { runId: input.runId, remediate, apps };
}
