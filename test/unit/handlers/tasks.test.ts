import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Notification } from "../../../functions/lib/notifier";
import type { Store } from "../../../functions/lib/store";
import { notifyOwner } from "../../../functions/notify-owner/notify-owner";
import { remindTaskOwners } from "../../../functions/remind-task-owners/remind-task-owners";
import type { LocalDynamo } from "../../../local/dynamo";
import { testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
beforeAll(async () => ({ store, dynamo } = await testStore()));
afterAll(() => dynamo.close());

const app = { appId: "payroll", appName: "Payroll", mode: "manual" as const, emails: ["ann@example.com"], accountName: "ann@example.com", action: "x", owner: "owner@example.com", backupOwner: "backup@example.com", taskTimeoutSeconds: 3600, taskHeartbeatSeconds: 2700 };

describe("human tasks", () => {
  it("the owner is told what to do and how to answer; the backup round closes the owner's task as escalated", async () => {
    const sent: Notification[] = [];
    const deps = { store, notify: async (n: Notification) => void sent.push(n), now: () => new Date("2026-12-03T10:00:00Z") };
    const { taskId } = await notifyOwner({ taskToken: "tok-1", subjectId: "sub-a", runName: "run-a", app, round: "owner" }, deps);
    expect(await store.getTask(taskId)).toMatchObject({ state: "OPEN", assignee: "owner@example.com", deadline: "2026-12-03T11:00:00.000Z", remindAt: "2026-12-03T10:30:00.000Z" });
    expect(sent[0]).toMatchObject({ to: "owner@example.com", subject: "Remove ann@example.com from Payroll" });
    expect(sent[0]!.text).toContain(`revoke confirm ${taskId}`);
    expect(sent[0]!.text).not.toContain("tok-1");
    const backup = await notifyOwner({ taskToken: "tok-2", subjectId: "sub-a", runName: "run-a", app, round: "backup" }, deps);
    expect((await store.getTask(taskId))?.state).toBe("ESCALATED");
    expect(sent[1]).toMatchObject({ to: "backup@example.com", subject: expect.stringMatching(/^\[escalated\]/) });
    expect((await store.getTask(backup.taskId))?.state).toBe("OPEN");
  });

  it("a wait entered again for the same round (a re-drive after a restart) keeps the one task, bound to the new token, without a second message", async () => {
    const sent: Notification[] = [];
    const deps = { store, notify: async (n: Notification) => void sent.push(n), now: () => new Date("2026-12-03T10:00:00Z") };
    const first = await notifyOwner({ taskToken: "tok-before-restart", subjectId: "sub-r", runName: "run-r", app, round: "owner" }, deps);
    const again = await notifyOwner({ taskToken: "tok-after-restart", subjectId: "sub-r", runName: "run-r", app, round: "owner" }, { ...deps, now: () => new Date("2026-12-03T10:20:00Z") });
    expect(again.taskId).toBe(first.taskId);
    expect(await store.getTask(first.taskId)).toMatchObject({ state: "OPEN", token: "tok-after-restart", deadline: "2026-12-03T11:00:00.000Z" });
    expect(sent).toHaveLength(1);
    expect((await store.listTasks()).filter((t) => t.runName === "run-r")).toHaveLength(1);
    // Once it is closed, a new wait is a new task (a later round or a later run).
    await store.closeTask(first.taskId, { state: "CONFIRMED", closedAt: "2026-12-03T10:30:00Z", closedBy: "o" });
    expect((await notifyOwner({ taskToken: "tok-3", subjectId: "sub-r", runName: "run-r", app, round: "owner" }, deps)).taskId).not.toBe(first.taskId);
  });

  it("a task past half time is reminded once, with a heartbeat; a task no run waits for any more expires", async () => {
    const sent: Notification[] = [];
    const beats: string[] = [];
    const early = { store, notify: async (n: Notification) => void sent.push(n), now: () => new Date("2026-12-04T09:00:00Z") };
    const { taskId } = await notifyOwner({ taskToken: "tok-live", subjectId: "sub-b", runName: "run-b", app, round: "owner" }, early);
    const { taskId: deadId } = await notifyOwner({ taskToken: "tok-dead", subjectId: "sub-c", runName: "run-c", app, round: "owner" }, early);
    sent.length = 0;
    const heartbeat = async (token: string) => {
      if (token === "tok-dead") throw Object.assign(new Error("gone"), { name: "TaskDoesNotExist" });
      beats.push(token);
    };
    const later = () => new Date("2026-12-04T09:45:00Z");
    expect(await remindTaskOwners({ store, notify: async (n) => void sent.push(n), heartbeat, now: later })).toMatchObject({ reminded: expect.any(Number), expired: 1, pastDeadline: expect.any(Number) });
    expect(beats).toContain("tok-live");
    expect(sent.some((n) => n.subject.startsWith("[reminder]") && n.text.includes(taskId))).toBe(true);
    expect((await store.getTask(deadId))?.state).toBe("EXPIRED");
    beats.length = 0;
    await remindTaskOwners({ store, notify: async () => undefined, heartbeat, now: later });
    expect(beats).not.toContain("tok-live");
  });

  it("a task whose run stopped waiting past its deadline is closed; one still waited for past its deadline is counted", async () => {
    const deps = { store, notify: async () => undefined, now: () => new Date("2026-12-05T09:00:00Z") };
    const gone = await notifyOwner({ taskToken: "tok-gone", subjectId: "sub-d", runName: "run-d", app, round: "backup" }, deps);
    const stuck = await notifyOwner({ taskToken: "tok-stuck", subjectId: "sub-e", runName: "run-e", app, round: "backup" }, deps);
    const heartbeat = async (token: string) => {
      if (token === "tok-gone") throw Object.assign(new Error("timed out"), { name: "TaskTimedOut" });
    };
    const result = await remindTaskOwners({ store, notify: async () => undefined, heartbeat, now: () => new Date("2026-12-05T11:00:00Z") });
    expect(result.pastDeadline).toBeGreaterThanOrEqual(1);
    expect((await store.getTask(gone.taskId))?.state).toBe("EXPIRED");
    expect((await store.getTask(stuck.taskId))?.state).toBe("OPEN");
  });
});
