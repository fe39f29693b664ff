import { MetricUnit } from "@aws-lambda-powertools/metrics";
import * as z from "zod";
import { logger, metrics } from "../lib/observability";
import { type AppReport, appMarkdown, emptyCounts, FINDING_KINDS, type FindingKind, mergeReconcileItem, reconcileKeys } from "../lib/reconcile";
import type { Store } from "../lib/store";

export const ReportInput = z.object({
  runId: z.string().min(1),
  remediate: z.boolean(),
  /** One entry per app: the step's counts, or what the Catch made of its error. */
  results: z.array(
    z.union([
      z.object({ appId: z.string(), status: z.literal("COMPLETE") }).passthrough(),
      z.object({ appId: z.string(), status: z.literal("FAILED"), error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough() }),
    ]),
  ),
});

export interface ReportResult {
  runId: string;
  remediate: boolean;
  totals: Record<FindingKind, number>;
  /** Orphans and revoked-but-active accounts: what remediation would act on. */
  remediable: number;
  failedApps: string[];
}

/** A Lambda error's Cause on AWS is a JSON document; locally it is the message. Either way, one line. */
export function causeText(error: { Error?: string; Cause?: string }): string {
  let message = error.Cause ?? "";
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === "string") message = parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return `${error.Error ?? "Error"}: ${message}`.replace(/\s+/g, " ").slice(0, 500);
}

/**
 * "Write reconciliation report": the apps that could not be listed get their part (FAILED, with the
 * reason), and the summary gets the totals and its completion time.
 */
export async function writeReconciliationReport(rawInput: unknown, deps: { store: Store; now: () => Date }): Promise<ReportResult> {
  const { runId, remediate, results } = ReportInput.parse(rawInput);
  const pk = reconcileKeys.pk(runId);
  for (const r of results) {
    if (r.status !== "FAILED") continue;
    const failed: AppReport = { runId, appId: r.appId, appName: r.appId, status: "FAILED", accounts: 0, activeAccounts: 0, counts: emptyCounts(), findings: [], omitted: 0, error: causeText(r.error) };
    await deps.store.putItem({ pk, sk: reconcileKeys.app(r.appId), ...failed, markdown: appMarkdown(failed) });
  }
  const apps = (await deps.store.queryPrefix(pk, "APP#")) as unknown as AppReport[];
  const totals = emptyCounts();
  for (const app of apps) for (const k of FINDING_KINDS) totals[k] += app.counts?.[k] ?? 0;
  const failedApps = apps.filter((a) => a.status === "FAILED").map((a) => a.appId);
  await mergeReconcileItem(deps.store, runId, reconcileKeys.summary, { status: "COMPLETE", completedAt: deps.now().toISOString(), totals });
  logger.info("reconciliation report written", { runId, ...totals, failedApps: failedApps.length });
  // For the dashboard and alarms: what each run found, by kind, and apps that could not be listed.
  metrics.addMetric("ReconcileOrphans", MetricUnit.Count, totals.orphan);
  metrics.addMetric("ReconcileUnknownAccounts", MetricUnit.Count, totals.unknown);
  metrics.addMetric("ReconcileUnrecordedAccounts", MetricUnit.Count, totals.unrecorded);
  metrics.addMetric("ReconcileRevokedButActive", MetricUnit.Count, totals["revoked-but-active"]);
  metrics.addMetric("ReconcileAppsFailed", MetricUnit.Count, failedApps.length);
  return { runId, remediate, totals, remediable: totals.orphan + totals["revoked-but-active"], failedApps };
}
