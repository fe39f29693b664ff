import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { requiredEnv } from "../lib/config";
import { logger } from "../lib/observability";
import type { ReconcileInput } from "../lib/reconcile";
import { sfnClient } from "../lib/aws";

export interface StartReconciliationDeps {
  startExecution: (name: string, input: ReconcileInput) => Promise<"started" | "exists">;
  now: () => Date;
}

/**
 * The scheduled reconciliation: one run per day, named after the day, so that a retried schedule or a
 * second scheduler tick cannot start a second one.
 */
export async function startReconciliation(_event: unknown, deps: StartReconciliationDeps): Promise<{ runId: string; action: "started" | "exists" }> {
  const runId = `reconcile-daily-${deps.now().toISOString().slice(0, 10)}`;
  const action = await deps.startExecution(runId, { runId, requestedBy: "schedule" });
  logger.info("scheduled reconciliation", { runId, action });
  return { runId, action };
}

/** StartExecution on the reconcile state machine; "already exists" is the idempotency asked for. */
export async function startReconcileExecution(name: string, input: ReconcileInput): Promise<"started" | "exists"> {
  try {
    await sfnClient().send(new StartExecutionCommand({ stateMachineArn: requiredEnv("RECONCILE_STATE_MACHINE_ARN"), name, input: JSON.stringify(input) }));
    return "started";
  } catch (e) {
    if ((e as Error).name === "ExecutionAlreadyExists") return "exists";
    throw e;
  }
}
