import { SendTaskFailureCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import type { HumanTask, Store } from "./store";
import { oneLine } from "./text";
import { constantTimeEqual, hmacHex } from "./webhook-auth";

export type TaskAnswer = { confirm: true; note?: string } | { confirm: false; reason: string };

export type AnswerOutcome =
  | { kind: "answered"; task: HumanTask }
  | { kind: "already-closed"; task: HumanTask; sameAnswer: boolean }
  | { kind: "no-longer-waiting"; task: HumanTask }
  | { kind: "not-found" };

type SfnSend = (command: SendTaskSuccessCommand | SendTaskFailureCommand) => Promise<unknown>;

/**
 * Answers a human task once, for the CLI and the task page alike: Step Functions first (so a task
 * that stopped waiting is never recorded as answered), then the task record, conditionally. A task
 * already closed is reported as such, every time it is asked.
 */
export async function answerTask(deps: { store: Store; send: SfnSend; now: () => Date }, taskId: string, given: TaskAnswer, givenActor: string): Promise<AnswerOutcome> {
  // Notes and reasons are typed by people on a page or a command line and shown again in terminals and
  // the evidence: kept, on one line, with no escape sequences.
  const answer: TaskAnswer = given.confirm ? { confirm: true, ...(given.note !== undefined ? { note: oneLine(given.note) } : {}) } : { confirm: false, reason: oneLine(given.reason) };
  const actor = oneLine(givenActor);
  const task = await deps.store.getTask(taskId);
  if (!task) return { kind: "not-found" };
  if (task.state !== "OPEN") return { kind: "already-closed", task, sameAnswer: answer.confirm && task.state === "CONFIRMED" };
  const now = deps.now().toISOString();
  try {
    if (answer.confirm) {
      await deps.send(new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify({ confirmedBy: actor, note: answer.note, confirmedAt: now, taskId }) }));
    } else {
      await deps.send(new SendTaskFailureCommand({ taskToken: task.token, error: "Rejected", cause: `${answer.reason} (by ${actor})`.slice(0, 32_000) }));
    }
  } catch (e) {
    const name = (e as Error).name;
    if (name !== "TaskDoesNotExist" && name !== "TaskTimedOut" && name !== "InvalidToken") throw e;
    await deps.store.closeTask(taskId, { state: "EXPIRED", closedAt: now });
    return { kind: "no-longer-waiting", task };
  }
  await deps.store.closeTask(taskId, answer.confirm ? { state: "CONFIRMED", closedAt: now, closedBy: actor, note: answer.note } : { state: "REJECTED", closedAt: now, closedBy: actor, note: answer.reason });
  return { kind: "answered", task };
}

/** A task link: the task id, an expiry (the task's deadline) and an HMAC over both. No token travels. */
export function taskLinkQuery(secret: string, taskId: string, deadline: string): string {
  const exp = String(Math.floor(Date.parse(deadline) / 1000));
  return `exp=${exp}&sig=${hmacHex(secret, `${taskId}.${exp}`)}`;
}

export function taskLinkProblem(secret: string, taskId: string, exp: string | undefined, sig: string | undefined, nowMs = Date.now()): string | undefined {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return "this link is incomplete";
  if (!constantTimeEqual(sig.toLowerCase(), hmacHex(secret, `${taskId}.${exp}`))) return "this link is not valid";
  if (Number(exp) * 1000 < nowMs) return "this link has expired";
  return undefined;
}
