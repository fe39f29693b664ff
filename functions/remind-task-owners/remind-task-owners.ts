import { SendTaskHeartbeatCommand } from "@aws-sdk/client-sfn";
import type { Notifier } from "../lib/notifier";
import { logger } from "../lib/observability";
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
export async function remindTaskOwners(deps: RemindDeps): Promise<{ reminded: number; expired: number }> {
  const now = deps.now();
  let reminded = 0;
  let expired = 0;
  const due = (await deps.store.listTasks()).filter((t: HumanTask) => t.state === "OPEN" && !t.remindedAt && t.remindAt <= now.toISOString());
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
  if (reminded || expired) logger.info("task reminders", { reminded, expired });
  return { reminded, expired };
}

export const sfnHeartbeat = (send: (c: SendTaskHeartbeatCommand) => Promise<unknown>) => async (token: string) => {
  await send(new SendTaskHeartbeatCommand({ taskToken: token }));
};
