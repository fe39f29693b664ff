import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import { FunctionName, OFFBOARD_SUBSTITUTIONS } from "../../functions/lib/rules";
import { LocalStepFunctions, localStateMachineArn } from "../../local/stepfunctions";
import { memoryRegistry } from "../helpers/store";

const ASL_DIR = join(import.meta.dirname, "../../statemachines");


type Behaviour = (payload: Record<string, unknown>, call: number) => unknown;
const named = (name: string, message = name) => Object.assign(new Error(message), { name });

/**
 * Stub functions with a script per function. Outcome and close follow the contracts of the real ones
 * (REVOKED needs revoke + verify and no error; OFFBOARDED needs every app REVOKED and no error), so
 * what is under test is the ASL's wiring: paths, retries, catches and the Choice states.
 */
function harness(script: Partial<Record<FunctionName, Behaviour>>) {
  const calls: Array<{ fn: FunctionName; payload: Record<string, unknown> }> = [];
  const defaults: Record<string, Behaviour> = {
    [FunctionName.ScimRevoke]: () => ({ scimId: "s1", found: true, revokedAt: "t-revoked", evidence: [] }),
    // Verified means recorded REVOKED in the same invocation, as the real one does.
    [FunctionName.ScimVerify]: (p) => {
      const app = p.app as { appId: string; mode: string };
      return { appId: app.appId, mode: app.mode, state: "REVOKED", revokedAt: (p.revoke as { revokedAt: string }).revokedAt, verifiedAt: "t-verified", detail: "deactivated; read-back inactive", evidence: [] };
    },
    [FunctionName.RecordAppOutcome]: (p) => {
      const app = p.app as { appId: string; mode: string };
      const ok = (p.revoke && p.verify && !p.error) || (p.manual && !p.error);
      const retained = (p.error as { Error?: string } | undefined)?.Error === "Rejected";
      return { appId: app.appId, mode: app.mode, state: ok ? "REVOKED" : retained ? "RETAINED" : "FAILED", detail: p.error ? (p.error as { Error: string }).Error : undefined, evidence: [] };
    },
    [FunctionName.NotifyOwner]: () => ({ taskId: "t-1" }),
    [FunctionName.IdpRevoke]: (p) => ({ userId: "u1", found: true, disabledAt: "t-disabled", sessionsRevokedAt: "t-sessions", note: `${(p.idp as { action: string }).action}d`, evidence: [] }),
    [FunctionName.IdpVerify]: () => ({ verifiedAt: "t-idp-verified", readBack: "DEPROVISIONED", evidence: [] }),
    [FunctionName.CloseRun]: (p) => {
      const results = (p.results ?? []) as Array<{ state: string }>;
      const idps = (p.idpResults ?? []) as Array<{ state: string }>;
      const ok = !p.error && results.every((r) => r.state === "REVOKED" || r.state === "RETAINED") && idps.every((i) => i.state === "REVOKED");
      const status = !ok ? "NEEDS_ATTENTION" : p.frontDoorOnly ? "SUSPENDED" : "OFFBOARDED";
      return { subjectId: p.subjectId, runName: p.runName, status, summary: "", apps: results, idp: idps, sawError: p.error ?? null };
    },
  };
  const counts = new Map<string, number>();
  const invoker = {
    invoke: async (fn: FunctionName, payload: unknown) => {
      calls.push({ fn, payload: payload as Record<string, unknown> });
      const n = (counts.get(fn) ?? 0) + 1;
      counts.set(fn, n);
      const behaviour = script[fn] ?? defaults[fn];
      if (!behaviour) throw new Error(`no stub for ${fn}`);
      return behaviour(payload as Record<string, unknown>, n);
    },
  };
  const sfn = new LocalStepFunctions(memoryRegistry(), invoker, { retryIntervalMs: 0 });
  sfn.register("offboard", join(ASL_DIR, "offboard.asl.json"), OFFBOARD_SUBSTITUTIONS);
  const run = async (input: Record<string, unknown>) => {
    const name = `t-${crypto.randomUUID()}`;
    await sfn.startExecution(localStateMachineArn("offboard"), name, JSON.stringify(input));
    const record = (await sfn.waitFor(name))!;
    return { ...record, output: record.output ? JSON.parse(record.output) : undefined };
  };
  const callsTo = (fn: FunctionName) => calls.filter((c) => c.fn === fn);
  /** Resolves with the payload of the n-th owner notification, once it has been sent. */
  const notified = async (n = 1) => {
    for (let i = 0; i < 200 && callsTo(FunctionName.NotifyOwner).length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return callsTo(FunctionName.NotifyOwner)[n - 1]!.payload;
  };
  const start = async (input: Record<string, unknown>) => {
    const name = `t-${crypto.randomUUID()}`;
    await sfn.startExecution(localStateMachineArn("offboard"), name, JSON.stringify(input));
    return async () => {
      const record = (await sfn.waitFor(name))!;
      return { ...record, output: record.output ? JSON.parse(record.output) : undefined };
    };
  };
  return { run, start, calls, callsTo, notified, sfn };
}

const trigger = { source: "hr", sourceEventId: "hr:1", occurredAt: "2026-12-03T00:00:00Z" };
const input = { runName: "run-1", subjectId: "sub-1", trigger, dryRun: false };
const app = (appId: string, mode = "scim") => ({ appId, appName: appId, mode, emails: ["a@example.com"], action: "x" });
const plan = (apps: unknown[], extra = {}) => () => ({ ...input, subjectStatus: "DEPARTING", idps: [], frontDoorOnly: false, apps, skipped: [], ...extra });
const okta = { id: "okta", userRef: "00u1", action: "deactivate" };
const entra = { id: "entra", userRef: "a@example.com", action: "deactivate" };

describe("statemachines/*.asl.json", () => {
  it.each(readdirSync(ASL_DIR).filter((f) => f.endsWith(".asl.json")))("%s is valid ASL", (file) => {
    const { isValid, errors } = aslValidator(JSON.parse(readFileSync(join(ASL_DIR, file), "utf8")));
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it("every definitionSubstitutions placeholder in the ASL has a function", () => {
    const text = readFileSync(join(ASL_DIR, "offboard.asl.json"), "utf8");
    const placeholders = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(OFFBOARD_SUBSTITUTIONS)));
  });
});

describe("offboard state machine, run locally through every branch", () => {
  it("happy path: plan → revoke → verify (which records the outcome), per app → close OFFBOARDED", async () => {
    const h = harness({ [FunctionName.PlanOffboarding]: plan([app("crm"), app("wiki")]) });
    const result = await h.run(input);
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toMatchObject({ status: "OFFBOARDED", apps: [{ appId: "crm", state: "REVOKED" }, { appId: "wiki", state: "REVOKED" }] });
    const verify = h.callsTo(FunctionName.ScimVerify)[0]!.payload;
    expect(verify).toMatchObject({ subjectId: "sub-1", runName: "run-1", app: { appId: expect.any(String) }, revoke: { scimId: "s1", found: true, revokedAt: "t-revoked", evidence: [] } });
    // The verify step's own answer is the app's result: no separate recording step on this path.
    expect(h.callsTo(FunctionName.RecordAppOutcome)).toEqual([]);
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload).toMatchObject({
      runName: "run-1",
      trigger,
      results: [expect.objectContaining({ appId: "crm", state: "REVOKED", revokedAt: "t-revoked", verifiedAt: "t-verified" }), expect.objectContaining({ appId: "wiki", state: "REVOKED" })],
    });
    // 8 states around the Map, and 3 per app: choose the path, deactivate, verify.
    expect(h.sfn.transitions).toBe(8 + 3 * 2);
  });

  it("dry run: stops after the plan and returns it; nothing is revoked or recorded", async () => {
    const h = harness({ [FunctionName.PlanOffboarding]: plan([app("crm")], { dryRun: true }) });
    const result = await h.run({ ...input, dryRun: true });
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toMatchObject({ dryRun: true, apps: [{ appId: "crm" }] });
    expect(h.calls.map((c) => c.fn)).toEqual([FunctionName.PlanOffboarding]);
  });

  it("nothing to revoke: the Map is empty and the run closes OFFBOARDED", async () => {
    const h = harness({ [FunctionName.PlanOffboarding]: plan([]) });
    const result = await h.run(input);
    expect(result.output).toMatchObject({ status: "OFFBOARDED", apps: [] });
    expect(h.callsTo(FunctionName.ScimRevoke)).toEqual([]);
  });

  it("an app that is not in the catalog skips every automated path and is recorded for a person", async () => {
    const h = harness({ [FunctionName.PlanOffboarding]: plan([app("okta-0oaX", "unmapped")]) });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.ScimRevoke)).toEqual([]);
    expect(h.callsTo(FunctionName.NotifyOwner)).toEqual([]);
    expect(h.callsTo(FunctionName.RecordAppOutcome).map((c) => c.payload.revoke)).toEqual([undefined]);
    expect(result).toMatchObject({ status: "FAILED", error: "NeedsAttention" });
  });

  it("Throttled is retried, then succeeds", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("crm")]),
      [FunctionName.ScimRevoke]: (_p, n) => {
        if (n <= 2) throw named("Throttled", "PATCH → 429");
        return { scimId: "s1", found: true, revokedAt: "t", evidence: [] };
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.ScimRevoke)).toHaveLength(3);
    expect(result.output).toMatchObject({ status: "OFFBOARDED" });
  });

  it("Transient until retries run out: the app is FAILED with the error, the others still revoked, the run NEEDS_ATTENTION", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("down"), app("up")]),
      [FunctionName.ScimRevoke]: (p) => {
        if ((p.app as { appId: string }).appId === "down") throw named("Transient", "PATCH → 503");
        return { scimId: "s2", found: true, revokedAt: "t", evidence: [] };
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.ScimRevoke).filter((c) => (c.payload.app as { appId: string }).appId === "down")).toHaveLength(5);
    const outcomes = h.callsTo(FunctionName.RecordAppOutcome).map((c) => c.payload);
    expect(outcomes.find((o) => (o.app as { appId: string }).appId === "down")).toMatchObject({ error: { Error: "Transient", Cause: "PATCH → 503" } });
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload.results).toEqual(
      expect.arrayContaining([expect.objectContaining({ appId: "down", state: "FAILED" }), expect.objectContaining({ appId: "up", state: "REVOKED" })]),
    );
    expect(result).toMatchObject({ status: "FAILED", error: "NeedsAttention" });
  });

  it("Permanent is not retried", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("crm")]),
      [FunctionName.ScimRevoke]: () => {
        throw named("Permanent", "PATCH → 400");
      },
    });
    await h.run(input);
    expect(h.callsTo(FunctionName.ScimRevoke)).toHaveLength(1);
    expect(h.callsTo(FunctionName.ScimVerify)).toHaveLength(0);
  });

  it("a read-back that still shows the account active is retried briefly, then FAILED", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("crm")]),
      [FunctionName.ScimVerify]: () => {
        throw named("Unverified", "read-back shows active=true");
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.ScimVerify)).toHaveLength(3);
    expect(h.callsTo(FunctionName.RecordAppOutcome)[0]!.payload).toMatchObject({ revoke: { scimId: "s1" }, error: { Error: "Unverified" } });
    expect(result.error).toBe("NeedsAttention");
  });

  it("Lambda service errors are retried like the AWS integration's transient faults", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: (_p, n) => {
        if (n === 1) throw named("Lambda.ServiceException");
        return plan([])();
      },
    });
    expect((await h.run(input)).output).toMatchObject({ status: "OFFBOARDED" });
  });

  it("a plan that fails still closes the run, as NEEDS_ATTENTION with the error", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: () => {
        throw named("Permanent", "table missing");
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload).toMatchObject({ runName: "run-1", subjectId: "sub-1", error: { Error: "Permanent", Cause: "table missing" } });
    expect(result.error).toBe("NeedsAttention");
  });

  it("a verified app whose outcome cannot be recorded is recorded FAILED by the catch-all step", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("crm")]),
      [FunctionName.ScimVerify]: () => {
        throw named("Permanent", "condition failed");
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.RecordAppOutcome)[0]!.payload).toMatchObject({ revoke: { scimId: "s1" }, error: { Error: "Permanent", Cause: "condition failed" } });
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload.results).toEqual([expect.objectContaining({ appId: "crm", state: "FAILED" })]);
    expect(result.error).toBe("NeedsAttention");
  });

  it("a failure recording an outcome fails the Map, and the run still closes NEEDS_ATTENTION", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("crm")]),
      [FunctionName.ScimRevoke]: () => {
        throw named("Permanent", "PATCH → 400");
      },
      [FunctionName.RecordAppOutcome]: () => {
        throw named("Permanent", "condition failed");
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload).toMatchObject({ error: { Error: "Permanent" } });
    expect(result.error).toBe("NeedsAttention");
  });

  it("front door: each IdP is disabled, its sessions revoked and read back before any app is touched", async () => {
    const h = harness({ [FunctionName.PlanOffboarding]: plan([app("crm")], { idps: [okta, entra] }) });
    const result = await h.run(input);
    expect(result.output).toMatchObject({ status: "OFFBOARDED" });
    const order = h.calls.map((c) => c.fn);
    expect(order.lastIndexOf(FunctionName.IdpVerify)).toBeLessThan(order.indexOf(FunctionName.ScimRevoke));
    expect(h.callsTo(FunctionName.IdpVerify)[0]!.payload).toMatchObject({ idp: { id: "okta" }, disable: { found: true, sessionsRevokedAt: "t-sessions" } });
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload.idpResults).toEqual([
      { id: "okta", action: "deactivate", state: "REVOKED", found: true, note: "deactivated", disabledAt: "t-disabled", sessionsRevokedAt: "t-sessions", verifiedAt: "t-idp-verified", readBack: "DEPROVISIONED", evidence: { disable: [], verify: [] } },
      expect.objectContaining({ id: "entra", state: "REVOKED" }),
    ]);
  });

  it("a suspension closes the front door only: no app is touched, and it ends SUSPENDED", async () => {
    const h = harness({ [FunctionName.PlanOffboarding]: plan([], { idps: [{ ...okta, action: "suspend" }], frontDoorOnly: true }) });
    const result = await h.run({ ...input, action: "suspend" });
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toMatchObject({ status: "SUSPENDED" });
    expect(h.callsTo(FunctionName.RecordAppOutcome)).toEqual([]);
    expect(h.callsTo(FunctionName.IdpRevoke)[0]!.payload).toMatchObject({ idp: { action: "suspend" } });
  });

  it("an IdP throttled at first is retried and closes", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([], { idps: [okta] }),
      [FunctionName.IdpRevoke]: (_p, n) => {
        if (n === 1) throw named("Throttled", "429");
        return { userId: "u1", found: true, disabledAt: "t", sessionsRevokedAt: "t", note: "x", evidence: [] };
      },
    });
    expect((await h.run(input)).output).toMatchObject({ status: "OFFBOARDED" });
    expect(h.callsTo(FunctionName.IdpRevoke)).toHaveLength(2);
  });

  it("an IdP that cannot be verified makes the run NEEDS_ATTENTION even though every app succeeded", async () => {
    const h = harness({
      [FunctionName.PlanOffboarding]: plan([app("crm")], { idps: [okta] }),
      [FunctionName.IdpVerify]: () => {
        throw named("Unverified", "Okta user is ACTIVE");
      },
    });
    const result = await h.run(input);
    expect(h.callsTo(FunctionName.IdpVerify)).toHaveLength(5);
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload.idpResults).toEqual([{ id: "okta", action: "deactivate", state: "FAILED", error: { Error: "Unverified", Cause: "Okta user is ACTIVE" } }]);
    expect(h.callsTo(FunctionName.CloseRun)[0]!.payload.results).toEqual([expect.objectContaining({ appId: "crm", state: "REVOKED" })]);
    expect(result.error).toBe("NeedsAttention");
  });

  describe("apps without SCIM: a human task that waits for its token", () => {
    const manualApp = (timeout = 30, heartbeat = 30) => ({ ...app("payroll", "manual"), owner: "owner@example.com", backupOwner: "backup@example.com", taskTimeoutSeconds: timeout, taskHeartbeatSeconds: heartbeat });

    it("the owner is notified with a real token and their confirmation ends the app REVOKED", async () => {
      const h = harness({ [FunctionName.PlanOffboarding]: plan([manualApp()]) });
      const done = await h.start(input);
      const task = await h.notified();
      expect(task).toMatchObject({ round: "owner", app: { appId: "payroll" }, taskToken: expect.stringMatching(/^local-/) });
      h.sfn.tokens.success(String(task.taskToken), JSON.stringify({ confirmedBy: "owner@example.com", note: "removed", confirmedAt: "t" }));
      const result = await done();
      expect(result.output).toMatchObject({ status: "OFFBOARDED" });
      expect(h.callsTo(FunctionName.RecordAppOutcome)[0]!.payload).toMatchObject({ manual: { confirmedBy: "owner@example.com" } });
      expect(() => h.sfn.tokens.success(String(task.taskToken), "{}")).toThrow(/does not exist/);
    });

    it("a rejection carries its reason to the outcome as Rejected (kept: RETAINED)", async () => {
      const h = harness({ [FunctionName.PlanOffboarding]: plan([manualApp()]) });
      const done = await h.start(input);
      h.sfn.tokens.failure(String((await h.notified()).taskToken), "Rejected", "legal hold");
      await done();
      expect(h.callsTo(FunctionName.RecordAppOutcome)[0]!.payload).toMatchObject({ error: { Error: "Rejected", Cause: "legal hold" } });
    });

    it("the owner's silence escalates once to the backup owner, who can still confirm", async () => {
      const h = harness({ [FunctionName.PlanOffboarding]: plan([manualApp(1, 1)]) });
      const done = await h.start(input);
      const first = await h.notified(1);
      const second = await h.notified(2);
      expect(second).toMatchObject({ round: "backup" });
      expect(() => h.sfn.tokens.success(String(first.taskToken), "{}")).toThrow(/Timed Out/);
      h.sfn.tokens.success(String(second.taskToken), JSON.stringify({ confirmedBy: "backup@example.com", confirmedAt: "t" }));
      expect((await done()).output).toMatchObject({ status: "OFFBOARDED" });
    });

    it("no answer from either ends the app FAILED and the run NEEDS_ATTENTION: no task waits forever", async () => {
      const h = harness({ [FunctionName.PlanOffboarding]: plan([manualApp(1, 1)]) });
      const done = await h.start(input);
      const result = await done();
      expect(h.callsTo(FunctionName.NotifyOwner).map((c) => c.payload.round)).toEqual(["owner", "backup"]);
      expect(h.callsTo(FunctionName.RecordAppOutcome)[0]!.payload.error).toMatchObject({ Error: expect.stringMatching(/States\.(Heartbeat)?Timeout/) });
      expect(result.error).toBe("NeedsAttention");
    });

    it("heartbeats keep a task alive past its heartbeat interval; without one it escalates early", async () => {
      const h = harness({ [FunctionName.PlanOffboarding]: plan([manualApp(3, 1)]) });
      const done = await h.start(input);
      const task = await h.notified(1);
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 600));
        h.sfn.tokens.heartbeat(String(task.taskToken));
      }
      h.sfn.tokens.success(String(task.taskToken), JSON.stringify({ confirmedBy: "owner@example.com", confirmedAt: "t" }));
      expect((await done()).output).toMatchObject({ status: "OFFBOARDED" });
      expect(h.callsTo(FunctionName.NotifyOwner)).toHaveLength(1);
    });
  });
});
