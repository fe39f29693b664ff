import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FunctionName, RECONCILE_SUBSTITUTIONS } from "../../functions/lib/rules";
import { LocalStepFunctions, localStateMachineArn } from "../../local/stepfunctions";
import { memoryRegistry } from "../helpers/store";

const ASL = join(import.meta.dirname, "../../statemachines/reconcile.asl.json");


type Behaviour = (payload: Record<string, unknown>, call: number) => unknown;
const named = (name: string, message = name) => Object.assign(new Error(message), { name });
const counts = (over = {}) => ({ orphan: 0, unknown: 0, unrecorded: 0, "revoked-but-active": 0, ...over });

/** Stub functions following the real ones' contracts, so what is under test is the ASL's wiring. */
function harness(script: Partial<Record<FunctionName, Behaviour>>) {
  const calls: Array<{ fn: FunctionName; payload: Record<string, unknown> }> = [];
  const defaults: Partial<Record<FunctionName, Behaviour>> = {
    [FunctionName.ReconcilePlan]: (p) => ({ runId: p.runId, remediate: false, apps: [{ appId: "crm" }, { appId: "wiki" }] }),
    [FunctionName.ReconcileApp]: (p) => ({ appId: (p.app as { appId: string }).appId, status: "COMPLETE", accounts: 3, activeAccounts: 2, counts: counts({ orphan: 1 }), omitted: 0 }),
    [FunctionName.ReconcileReport]: (p) => {
      const results = p.results as Array<{ status: string; counts?: Record<string, number>; appId: string }>;
      const orphans = results.reduce((n, r) => n + (r.counts?.orphan ?? 0), 0);
      return { runId: p.runId, remediate: p.remediate, totals: counts({ orphan: orphans }), remediable: orphans, failedApps: results.filter((r) => r.status === "FAILED").map((r) => r.appId) };
    },
    [FunctionName.ReconcileRemediate]: () => ({ enabled: true, started: 2, held: 0, duplicate: 0, skipped: 0, failed: 0 }),
  };
  const n = new Map<string, number>();
  const sfn = new LocalStepFunctions(
    memoryRegistry(),
    {
      invoke: async (fn: FunctionName, payload: unknown) => {
        calls.push({ fn, payload: payload as Record<string, unknown> });
        n.set(fn, (n.get(fn) ?? 0) + 1);
        const behaviour = script[fn] ?? defaults[fn];
        if (!behaviour) throw new Error(`no stub for ${fn}`);
        return behaviour(payload as Record<string, unknown>, n.get(fn)!);
      },
    },
    { retryIntervalMs: 0 },
  );
  sfn.register("reconcile", ASL, RECONCILE_SUBSTITUTIONS);
  const run = async (input: Record<string, unknown> = { runId: "r1" }) => {
    const name = `t-${crypto.randomUUID()}`;
    await sfn.startExecution(localStateMachineArn("reconcile"), name, JSON.stringify(input));
    const record = (await sfn.waitFor(name))!;
    return { ...record, output: record.output ? JSON.parse(record.output) : undefined };
  };
  return { run, callsTo: (fn: FunctionName) => calls.filter((c) => c.fn === fn) };
}

describe("reconcile state machine, run locally through every branch", () => {
  it("every placeholder in the ASL has a function", () => {
    const placeholders = [...readFileSync(ASL, "utf8").matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(RECONCILE_SUBSTITUTIONS)));
  });

  it("remediation off: plan → each app → report, and nothing is remediated", async () => {
    const h = harness({});
    const result = await h.run({ runId: "r1", requestedBy: "alice" });
    expect(result.status).toBe("SUCCEEDED");
    expect(h.callsTo(FunctionName.ReconcilePlan)[0]!.payload).toEqual({ runId: "r1", requestedBy: "alice" });
    expect(h.callsTo(FunctionName.ReconcileApp).map((c) => c.payload)).toEqual([
      { runId: "r1", app: { appId: "crm" } },
      { runId: "r1", app: { appId: "wiki" } },
    ]);
    expect(h.callsTo(FunctionName.ReconcileReport)[0]!.payload).toEqual({
      runId: "r1",
      remediate: false,
      results: [
        { appId: "crm", status: "COMPLETE", accounts: 3, activeAccounts: 2, counts: counts({ orphan: 1 }), omitted: 0 },
        { appId: "wiki", status: "COMPLETE", accounts: 3, activeAccounts: 2, counts: counts({ orphan: 1 }), omitted: 0 },
      ],
    });
    expect(h.callsTo(FunctionName.ReconcileRemediate)).toHaveLength(0);
    expect(result.output).toEqual({ runId: "r1", remediate: false, totals: counts({ orphan: 2 }), remediable: 2, failedApps: [] });
  });

  it("remediation on with findings to act on: the remediation step runs and its counts are the output", async () => {
    const h = harness({ [FunctionName.ReconcilePlan]: (p) => ({ runId: p.runId, remediate: true, apps: [{ appId: "crm" }] }) });
    const result = await h.run();
    expect(h.callsTo(FunctionName.ReconcileRemediate).map((c) => c.payload)).toEqual([{ runId: "r1" }]);
    expect(result.output).toMatchObject({ remediable: 1, remediation: { started: 2, held: 0 } });
  });

  it("remediation on but nothing to act on: the step is skipped", async () => {
    const h = harness({
      [FunctionName.ReconcilePlan]: (p) => ({ runId: p.runId, remediate: true, apps: [{ appId: "crm" }] }),
      [FunctionName.ReconcileApp]: () => ({ appId: "crm", status: "COMPLETE", accounts: 1, activeAccounts: 1, counts: counts({ unknown: 1 }), omitted: 0 }),
    });
    const result = await h.run();
    expect(result.status).toBe("SUCCEEDED");
    expect(h.callsTo(FunctionName.ReconcileRemediate)).toHaveLength(0);
  });

  it("no apps to list (only manual apps, or none asked for): the report is still written", async () => {
    const h = harness({ [FunctionName.ReconcilePlan]: (p) => ({ runId: p.runId, remediate: false, apps: [] }) });
    const result = await h.run();
    expect(result.status).toBe("SUCCEEDED");
    expect(h.callsTo(FunctionName.ReconcileReport)[0]!.payload).toMatchObject({ results: [] });
  });

  it("an app that cannot be listed is reported FAILED with its error; the other apps and the run go on", async () => {
    const h = harness({
      [FunctionName.ReconcileApp]: (p) => {
        if ((p.app as { appId: string }).appId === "wiki") throw named("Permanent", "GET /Users answered 401");
        return { appId: "crm", status: "COMPLETE", accounts: 1, activeAccounts: 1, counts: counts(), omitted: 0 };
      },
    });
    const result = await h.run();
    expect(result.status).toBe("SUCCEEDED");
    const results = h.callsTo(FunctionName.ReconcileReport)[0]!.payload.results as Array<Record<string, unknown>>;
    expect(results[1]).toEqual({ appId: "wiki", status: "FAILED", error: { Error: "Permanent", Cause: expect.stringContaining("401") } });
    expect(result.output.failedApps).toEqual(["wiki"]);
  });

  it("throttling and transient errors are retried with backoff before an app counts as failed", async () => {
    const h = harness({
      [FunctionName.ReconcileApp]: (p, call) => {
        if (call === 1) throw named("Throttled", "rate limit of scim:crm reached");
        if (call === 2) throw named("Transient", "503");
        return { appId: (p.app as { appId: string }).appId, status: "COMPLETE", accounts: 0, activeAccounts: 0, counts: counts(), omitted: 0 };
      },
      [FunctionName.ReconcilePlan]: (p) => ({ runId: p.runId, remediate: false, apps: [{ appId: "crm" }] }),
    });
    const result = await h.run();
    expect(h.callsTo(FunctionName.ReconcileApp)).toHaveLength(3);
    expect(result.output.failedApps).toEqual([]);
  });

  it("a plan that cannot be made (an unreadable roster) fails the execution, which the alarm watches", async () => {
    const h = harness({ [FunctionName.ReconcilePlan]: () => { throw named("ConfigError", "roster s3://hr/roster.csv cannot be read"); } });
    const result = await h.run();
    expect(result).toMatchObject({ status: "FAILED", error: "ConfigError" });
    expect(h.callsTo(FunctionName.ReconcileApp)).toHaveLength(0);
  });
});
