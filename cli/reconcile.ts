import { randomBytes } from "node:crypto";
import { DescribeExecutionCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { latestRunId, loadReport, type ReconcileInput, type ReconcileReport, reportMarkdown } from "../functions/lib/reconcile";
import { CliError, type Target } from "./target";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run id that sorts by time and is a valid execution name. */
export function newRunId(now = new Date()): string {
  return `reconcile-${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

/**
 * `revoke reconcile`: starts a run of the `reconcile` state machine (locally or on AWS, the same SDK
 * call), waits for it, and returns the report it stored. The `--json` output is this interface.
 */
export async function reconcileNow(target: Target, opts: { apps?: string[]; actor: string; timeoutMs?: number }): Promise<ReconcileReport> {
  const arn = target.reconcileStateMachineArn;
  if (!arn) throw new CliError(target.kind === "aws" ? "--aws reconcile needs REVOKE_RECONCILE_STATE_MACHINE_ARN (from the stack outputs)" : "this local runtime has no reconcile state machine (restart it with the current version)", 2);
  const runId = newRunId();
  const input: ReconcileInput = { runId, requestedBy: opts.actor, ...(opts.apps?.length ? { appIds: opts.apps } : {}) };
  const started = await target.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: runId, input: JSON.stringify(input) }));
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  for (;;) {
    const d = await target.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    if (d.status === "SUCCEEDED") break;
    if (d.status && d.status !== "RUNNING") throw new CliError(`reconciliation ${runId} ${d.status}: ${`${d.error ?? ""} ${d.cause ?? ""}`.trim().slice(0, 500)}`);
    if (Date.now() > deadline) throw new CliError(`reconciliation ${runId} is still running; its report will be stored under RECONCILE#${runId}`);
    await sleep(300);
  }
  const report = await loadReport(target.store, runId);
  if (!report) throw new CliError(`reconciliation ${runId} finished without a report`);
  return report;
}

export { reportMarkdown };

/** `revoke reconcile --show [run]`: a stored report (the latest by default), without starting a run. */
export async function storedReport(target: Target, runId?: string): Promise<ReconcileReport> {
  const id = runId ?? (await latestRunId(target.store));
  if (!id) throw new CliError("no reconciliation has run yet (start one with npx revoke reconcile)");
  const report = await loadReport(target.store, id);
  if (!report) throw new CliError(`no reconciliation ${id}`);
  return report;
}

/** 1 when an app could not be reconciled or an app asked for is not in the catalog; findings alone are 0. */
export function reconcileExitCode(report: ReconcileReport): number {
  return report.apps.some((a) => a.status === "FAILED") || report.skipped.some((s) => s.reason === "not in the app catalog") ? 1 : 0;
}
