import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, parseCatalog } from "../../../functions/lib/catalog";
import { OktaClient } from "../../../functions/lib/okta";
import { type Finding, loadReport, type ReconcileReport } from "../../../functions/lib/reconcile";
import { parseRoster } from "../../../functions/lib/roster";
import type { OffboardInput } from "../../../functions/lib/runs";
import { ScimClient } from "../../../functions/lib/scim";
import type { Store } from "../../../functions/lib/store";
import { idpStatusReader, reconcileApp, type ReconcileAppDeps } from "../../../functions/reconcile-app/reconcile-app";
import { planReconciliation } from "../../../functions/reconcile-plan/reconcile-plan";
import { remediateFindings } from "../../../functions/reconcile-remediate/reconcile-remediate";
import { writeReconciliationReport } from "../../../functions/reconcile-report/reconcile-report";
import { startReconciliation } from "../../../functions/start-reconciliation/start-reconciliation";
import type { LocalDynamo } from "../../../local/dynamo";
import { OktaStandIn } from "../../../local/idp-standins";
import { ScimApp } from "../../../local/scim-app";
import { ESTATE_APPS, ESTATE_EXPECTED, ESTATE_ROSTER_CSV, seedEstate } from "../../helpers/estate";
import { testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
const okta = new OktaStandIn("recon-okta-token");
const apps = {} as Record<(typeof ESTATE_APPS)[number], ScimApp>;
let catalog: Catalog;
const now = () => new Date("2026-12-03T12:00:00Z");

const catalogWith = (extra: Record<string, unknown> = {}) =>
  parseCatalog({
    idp: { okta: { orgUrl: okta.baseUrl, auth: { type: "api-token", tokenRef: "RECON_OKTA_TOKEN" } } },
    apps: [
      ...ESTATE_APPS.map((id) => ({ id, name: id.toUpperCase(), mode: "scim", owner: "o@example.com", scim: { baseUrl: apps[id].baseUrl, tokenRef: `RECON_${id.toUpperCase()}_TOKEN` } })),
      { id: "payroll", name: "Payroll", mode: "manual", owner: "payroll@example.com" },
    ],
    ...extra,
  });

beforeAll(async () => {
  ({ store, dynamo } = await testStore());
  process.env.RECON_OKTA_TOKEN = "recon-okta-token";
  await okta.start();
  for (const id of ESTATE_APPS) {
    process.env[`RECON_${id.toUpperCase()}_TOKEN`] = `token-${id}`;
    apps[id] = await new ScimApp({ token: `token-${id}` }).start();
  }
  catalog = catalogWith();
  await seedEstate(store, apps, okta);
});
afterAll(async () => {
  for (const app of Object.values(apps)) await app.stop();
  await okta.stop();
  await dynamo.close();
});

const appDeps = (c: Catalog): ReconcileAppDeps => ({
  store,
  catalog: c,
  // Pages of two, so that paging through the list is part of what is tested.
  listAccounts: async function* (appId) {
    yield* (await ScimClient.forApp(c.apps.find((a) => a.id === appId)!)).listUsers(2);
  },
  roster: async () => parseRoster(ESTATE_ROSTER_CSV, "roster.csv", now()),
  idpStatus: idpStatusReader({ okta: OktaClient.fromSettings(c.idp.okta!) }),
  now,
});

/** The state machine's steps in order, as the ASL runs them (tested on its own in test/statemachines). */
async function reconcile(runId: string, c = catalog): Promise<ReconcileReport> {
  const plan = await planReconciliation({ runId, requestedBy: "test" }, { store, catalog: c, roster: appDeps(c).roster, now });
  const results = [];
  for (const app of plan.apps) results.push(await reconcileApp({ runId, app }, appDeps(c)));
  const written = await writeReconciliationReport({ runId, remediate: plan.remediate, results }, { store, now });
  if (plan.remediate && written.remediable > 0) await remediateFindings({ runId }, remediationDeps(c));
  return (await loadReport(store, runId))!;
}

const started: Array<{ name: string; input: OffboardInput }> = [];
const remediationDeps = (c: Catalog) => ({
  store,
  catalog: c,
  startExecution: async (name: string, input: OffboardInput) => void started.push({ name, input }),
  publish: async () => undefined,
  now,
});
const found = (report: ReconcileReport) => report.apps.flatMap((a) => a.findings.map((f) => [a.appId, f.kind, f.account.userName ?? ""] as [string, string, string])).sort();
const finding = (report: ReconcileReport, userName: string) => report.apps.flatMap((a) => a.findings).find((f) => f.account.userName === userName)!;

describe("reconciliation of a seeded estate (three SCIM apps, the ledger, Okta, an HR roster)", () => {
  let report: ReconcileReport;
  beforeAll(async () => {
    report = await reconcile("run-1");
  });

  it("finds exactly the planted findings, and nothing else", () => {
    expect(found(report)).toEqual([...ESTATE_EXPECTED].sort());
    expect(report.totals).toEqual({ orphan: 3, unknown: 1, unrecorded: 2, "revoked-but-active": 1 });
    expect(report.apps.map((a) => [a.appId, a.status, a.accounts, a.activeAccounts])).toEqual([
      ["crm", "COMPLETE", 5, 4],
      ["wiki", "COMPLETE", 2, 2],
      ["billing", "COMPLETE", 3, 3],
    ]);
    expect(report.skipped).toEqual([{ appId: "payroll", reason: expect.stringContaining("no list API") }]);
    expect(report.roster).toEqual({ source: "roster.csv", people: 8, departed: 3, ignoredRows: 0 });
  });

  it("each finding carries the evidence that produced it", () => {
    expect(finding(report, "bob@example.com")).toMatchObject({
      subjectId: expect.any(String),
      evidence: { matchedBy: "userName=bob@example.com", ledger: { status: "OFFBOARDED", account: { state: "FAILED" } }, roster: { status: "Terminated", departed: true }, idp: [{ idp: "okta", status: "DEPROVISIONED", disabled: true }] },
    });
    expect(finding(report, "bob@example.com").reason).toMatch(/ledger says OFFBOARDED.*HR roster says status Terminated.*Okta says DEPROVISIONED/);
    expect(finding(report, "carol.c")).toMatchObject({ person: "carol@example.com", evidence: { roster: { employeeId: "1003", terminationDate: "2026-11-30" }, idp: [{ status: "absent" }] } });
    expect(finding(report, "dave@example.com").evidence.ledger).toMatchObject({ account: { state: "REVOKED", revokedAt: "2026-11-15T00:00:00.000Z", lastRun: "offboard-dave-1" } });
    expect(finding(report, "eve@example.com").reason).toMatch(/Okta says DEPROVISIONED/);
    expect(finding(report, "mallory@evil.example").evidence).toMatchObject({ idp: [{ status: "absent" }] });
  });

  it("records the unrecorded accounts in the ledger (via reconcile, with the app's own id), once", async () => {
    for (const [email, appId] of [["alice@example.com", "wiki"], ["frank@example.com", "crm"]] as const) {
      const f = report.apps.flatMap((a) => a.findings).find((x: Finding) => x.kind === "unrecorded" && x.appId === appId)!;
      expect(f.recorded).toBe(true);
      const profile = await store.findSubject({ email });
      const account = await store.getAccount(profile!.subjectId, appId);
      expect(account).toMatchObject({ via: "reconcile", source: "reconcile", state: "ACTIVE", scimId: f.account.scimId, sourceEventId: `reconcile:run-1:${appId}:unrecorded:${f.account.scimId}` });
    }
    // HR's id came with Frank from the roster.
    expect(await store.findSubject({ hrId: "1006" })).toMatchObject({ emails: ["frank@example.com"] });
    // Nothing is remediated unless the catalog says so.
    expect(report.remediation).toMatchObject({ enabled: false, started: 0 });
    expect(started).toHaveLength(0);
  });

  it("a retried app step (same run) still reports what it recorded on its first attempt, and lists each account once", async () => {
    const deps = appDeps(catalog);
    // A provider that pages badly and hands the same account out twice.
    const listTwice: ReconcileAppDeps["listAccounts"] = async function* (appId) {
      for await (const user of deps.listAccounts(appId)) {
        yield user;
        yield user;
      }
    };
    const retried = await reconcileApp({ runId: "run-1", app: { appId: "wiki" } }, { ...deps, listAccounts: listTwice });
    expect(retried).toMatchObject({ accounts: 2, counts: { unrecorded: 1, orphan: 1 } });
  });

  it("a second run finds them on record, and the rest unchanged", async () => {
    const again = await reconcile("run-2");
    expect(found(again)).toEqual(ESTATE_EXPECTED.filter(([, kind]) => kind !== "unrecorded").sort());
  });

  it("the report is stored as JSON and as Markdown, a table per app", async () => {
    const items = await store.queryPrefix("RECONCILE#run-1", "");
    expect(items.map((i) => i.sk).sort()).toEqual(["APP#billing", "APP#crm", "APP#wiki", "SUMMARY"]);
    const crm = items.find((i) => i.sk === "APP#crm")!;
    expect(String(crm.markdown)).toContain("| revoked-but-active | dave@example.com (");
    expect(String(crm.markdown)).toContain("| unrecorded | FRANK@EXAMPLE.COM (");
  });

  it("an app that cannot be listed is in the report as FAILED, with the reason", async () => {
    const broken = catalogWith();
    (broken.apps[1]!.scim as { tokenRef: string }).tokenRef = "RECON_WRONG_TOKEN";
    process.env.RECON_WRONG_TOKEN = "wrong";
    const plan = await planReconciliation({ runId: "run-broken", appIds: ["wiki", "nope"] }, { store, catalog: broken, roster: async () => undefined, now });
    expect(plan.apps).toEqual([{ appId: "wiki" }]);
    const error = await reconcileApp({ runId: "run-broken", app: { appId: "wiki" } }, appDeps(broken)).catch((e: Error) => e);
    expect((error as Error).name).toBe("Permanent");
    await writeReconciliationReport({ runId: "run-broken", remediate: false, results: [{ appId: "wiki", status: "FAILED", error: { Error: "Permanent", Cause: (error as Error).message } }] }, { store, now });
    const r = (await loadReport(store, "run-broken"))!;
    expect(r.apps).toEqual([expect.objectContaining({ appId: "wiki", status: "FAILED", error: expect.stringMatching(/^Permanent: .*401/) })]);
    expect(r.skipped).toEqual([{ appId: "nope", reason: "not in the app catalog" }]);
    expect(r.roster).toBeUndefined();
  });
});

describe("remediation (reconcile.remediate: true), always through the brake", () => {
  it("starts an app-scoped revocation for each orphan and revoked-but-active account, after making the ledger show it", async () => {
    started.length = 0;
    const remediating = catalogWith({ reconcile: { remediate: true } });
    const report = await reconcile("run-fix", remediating);
    const acted = report.apps.flatMap((a) => a.findings).filter((f) => f.remediation);
    expect(acted.map((f) => [f.appId, f.kind, f.remediation!.action]).sort()).toEqual([
      ["billing", "orphan", "started"],
      ["crm", "orphan", "started"],
      ["crm", "revoked-but-active", "started"],
      ["wiki", "orphan", "started"],
    ]);
    expect(report.remediation).toEqual({ enabled: true, started: 4, held: 0, duplicate: 0, skipped: 0, failed: 0 });
    expect(started.map((s) => s.input).every((i) => i.action === "revoke-apps" && i.appIds!.length === 1 && i.trigger.source === "reconcile")).toBe(true);
    // Dave's REVOKED record was reopened (so the plan does not skip it) with the id the app listed.
    const dave = await store.findSubject({ email: "dave@example.com" });
    expect(await store.getAccount(dave!.subjectId, "crm")).toMatchObject({ state: "ACTIVE", scimId: finding(report, "dave@example.com").account.scimId });
    // Carol had no record of her billing account: now she has one, for the plan to see.
    const carol = await store.findSubject({ email: "carol@example.com" });
    expect(await store.getAccount(carol!.subjectId, "billing")).toMatchObject({ via: "reconcile", state: "ACTIVE" });
    // The stored Markdown says what was done.
    expect(String((await store.getItem("RECONCILE#run-fix", "APP#crm"))!.markdown)).toMatch(/\| orphan \| bob@example.com .*\| started reconcile-/);

    // A replayed remediation step starts nothing new.
    const names = new Set(started.map((s) => s.name));
    const replay = await remediateFindings({ runId: "run-fix" }, remediationDeps(remediating));
    expect(replay).toMatchObject({ started: 0, duplicate: 4 });
    expect(new Set(started.map((s) => s.name))).toEqual(names);
  });

  it("the brake holds them when a bad feed makes too many at once", async () => {
    started.length = 0;
    const braked = catalogWith({ reconcile: { remediate: true }, brake: { enabled: true, windowMinutes: 60, maxDepartures: 1 } });
    const report = await reconcile("run-braked", braked);
    expect(report.remediation.held).toBeGreaterThan(0);
    // (Dave's record was reopened by the run before, whose revocation the stub never ran: not a finding now.)
    expect(report.remediation.started + report.remediation.held + report.remediation.duplicate).toBe(report.totals.orphan + report.totals["revoked-but-active"]);
    expect(report.apps.flatMap((a) => a.findings).filter((f) => f.remediation?.action === "held").every((f) => /brake/.test(f.remediation!.note ?? ""))).toBe(true);
  });
});

describe("the daily schedule", () => {
  it("starts one run per day, named after the day", async () => {
    const calls: string[] = [];
    const deps = { startExecution: async (name: string) => (calls.includes(name) ? "exists" : (calls.push(name), "started")) as "started" | "exists", now };
    expect(await startReconciliation({}, deps)).toEqual({ runId: "reconcile-daily-2026-12-03", action: "started" });
    expect(await startReconciliation({}, deps)).toEqual({ runId: "reconcile-daily-2026-12-03", action: "exists" });
  });
});
