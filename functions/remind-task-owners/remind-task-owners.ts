import { SendTaskHeartbeatCommand } from "@aws-sdk/client-sfn";
import type { Notifier } from "../lib/notifier";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logger, metrics } from "../lib/observability";
import type { HumanTask, Store } from "../lib/store";

export interface RemindDeps {
  store: Store;
  notify: Notifier;
  heartbeat: (token: string) => Promise<void>;
  now: () => Date;
}

/**
 * Scheduled: every open task past half its time gets one reminder, and the reminder is the task's
 * heartbeat. A task whose run no longer waits for it is closed as EXPIRED so it leaves the list.
 */
export async function remindTaskOwners(deps: RemindDeps): Promise<{ reminded: number; expired: number; pastDeadline: number }> {
  const now = deps.now();
  let reminded = 0;
  let expired = 0;
  let pastDeadline = 0;
  const open = (await deps.store.listTasks()).filter((t: HumanTask) => t.state === "OPEN");
  // Past its deadline the run has stopped waiting (escalated, or NEEDS_ATTENTION): close the task. One
  // the run still waits for past its deadline should not exist; it is counted, and alarmed on.
  for (const task of open.filter((t) => t.deadline < now.toISOString())) {
    try {
      await deps.heartbeat(task.token);
      pastDeadline++;
    } catch (e) {
      const name = (e as Error).name;
      if (name !== "TaskDoesNotExist" && name !== "TaskTimedOut" && name !== "InvalidToken") throw e;
      await deps.store.closeTask(task.taskId, { state: "EXPIRED", closedAt: now.toISOString() });
      expired++;
    }
  }
  metrics.addMetric("TasksPastDeadline", MetricUnit.Count, pastDeadline);
  const due = open.filter((t) => !t.remindedAt && t.remindAt <= now.toISOString() && t.deadline >= now.toISOString());
  for (const task of due) {
    try {
      await deps.heartbeat(task.token);
    } catch (e) {
      const name = (e as Error).name;
      if (name !== "TaskDoesNotExist" && name !== "TaskTimedOut" && name !== "InvalidToken") throw e;
      await deps.store.closeTask(task.taskId, { state: "EXPIRED", closedAt: now.toISOString() });
      expired++;
      continue;
    }
    await deps.notify({
      to: task.assignee,
      subject: `[reminder] Remove ${task.accountName ?? task.subjectId} from ${task.appName}`,
      text: `Still waiting, due ${task.deadline}.\nConfirm:  revoke confirm ${task.taskId} --note "<what you did>"\nKeep it:  revoke reject ${task.taskId} --reason "<why>"`,
    });
    await deps.store.putTask({ ...task, remindedAt: now.toISOString() });
    reminded++;
  }
  if (reminded || expired || pastDeadline) logger.info("task reminders", { reminded, expired, pastDeadline });
  return { reminded, expired, pastDeadline };
}

export const sfnHeartbeat = (send: (c: SendTaskHeartbeatCommand) => Promise<unknown>) => async (token: string) => {
  await send(new SendTaskHeartbeatCommand({ taskToken: token }));
};
