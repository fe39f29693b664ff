import { randomBytes } from "node:crypto";
import * as z from "zod";
import type { Notifier } from "../lib/notifier";
import { logger } from "../lib/observability";
import { PlanApp } from "../lib/runs";
import type { Store } from "../lib/store";

const NotifyInput = z.object({
  taskToken: z.string().min(1),
  subjectId: z.string(),
  runName: z.string(),
  app: PlanApp,
  round: z.enum(["owner", "backup"]),
});

export interface NotifyDeps {
  store: Store;
  notify: Notifier;
  now: () => Date;
  /** Builds the signed page link for a task, when links are configured. */
  linkFor?: (taskId: string, deadline: string) => Promise<string | undefined>;
}

/** Short, unambiguous ids people can type: `revoke confirm t-7k2m9q`. */
export function newTaskId(): string {
  const alphabet = "23456789abcdefghjkmnpqrstuvwxyz";
  return `t-${[...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join("")}`;
}

/**
 * The human task for an app without SCIM (a `.waitForTaskToken` step): record it, tell the owner
 * (or, in the second round, the backup owner) exactly what to do and how to answer, and return. The
 * execution waits until someone confirms or rejects, or the deadline passes.
 */
export async function notifyOwner(rawInput: unknown, deps: NotifyDeps): Promise<{ taskId: string }> {
  const { taskToken, subjectId, runName, app, round } = NotifyInput.parse(rawInput);
  const now = deps.now();
  const timeout = (app.taskTimeoutSeconds ?? 72 * 3600) * 1000;
  if (round === "backup") {
    // The owner's round timed out: close it, so an answer to it now is told it is too late.
    for (const t of await deps.store.listTasks()) {
      if (t.runName === runName && t.appId === app.appId && t.round === "owner" && t.state === "OPEN") await deps.store.closeTask(t.taskId, { state: "ESCALATED", closedAt: now.toISOString() });
    }
  }
  // The wait re-entered for the same round (the run was re-driven after a restart, or the step retried):
  // the owner already has this task. Point it at the new token; a second task and a second message
  // would leave the first one unanswerable.
  const open = (await deps.store.listTasks()).find((t) => t.runName === runName && t.appId === app.appId && t.round === round && t.state === "OPEN");
  if (open && (await deps.store.rebindTask(open.taskId, taskToken))) {
    logger.info("human task still open: bound to the run's new wait, owner not notified again", { taskId: open.taskId, appId: app.appId, round });
    return { taskId: open.taskId };
  }
  const assignee = round === "owner" ? (app.owner ?? "the app owner") : (app.backupOwner ?? app.owner ?? "the app owner");
  const taskId = newTaskId();
  await deps.store.putTask({
    taskId,
    subjectId,
    runName,
    appId: app.appId,
    appName: app.appName,
    round,
    assignee,
    accountName: app.accountName,
    token: taskToken,
    state: "OPEN",
    createdAt: now.toISOString(),
    deadline: new Date(now.getTime() + timeout).toISOString(),
    remindAt: new Date(now.getTime() + timeout / 2).toISOString(),
  });
  const who = app.accountName ?? app.emails[0] ?? subjectId;
  const deadline = new Date(now.getTime() + timeout).toISOString();
  const link = await deps.linkFor?.(taskId, deadline);
  await deps.notify({
    to: assignee,
    subject: `${round === "backup" ? "[escalated] " : ""}Remove ${who} from ${app.appName}`,
    text: [
      `${who} has left. Their account in ${app.appName} cannot be removed automatically: please remove it (and their roles there), then confirm.`,
      ...(link ? [`Answer here: ${link}`] : []),
      `Confirm:  revoke confirm ${taskId} --note "<what you did>"`,
      `Keep it (e.g. legal hold):  revoke reject ${taskId} --reason "<why>"`,
      `Deadline: ${new Date(now.getTime() + timeout).toISOString()}${round === "owner" ? ", then this goes to the backup owner" : ", then the offboarding is flagged NEEDS_ATTENTION"}.`,
    ].join("\n"),
  });
  logger.info("human task opened", { taskId, appId: app.appId, round });
  return { taskId };
}
