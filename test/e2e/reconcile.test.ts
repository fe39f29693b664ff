import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconcileReport } from "../../functions/lib/reconcile";
import { OktaStandIn } from "../../local/idp-standins";
import { type Runtime, startRuntime } from "../../local/runtime";
import { ScimApp } from "../../local/scim-app";
import { runTs } from "../helpers/cli";
import { ESTATE_APPS, ESTATE_EXPECTED, ESTATE_ROSTER_CSV, seedEstate } from "../helpers/estate";

/**
 * Reconciliation end to end on the embedded runtime: `revoke reconcile` starts the reconcile state
 * machine (the same ASL as on AWS), which lists three real SCIM servers, compares them with the
 * roster file, Okta and the ledger, stores the report, and, remediation being on in this catalog,
 * revokes the orphans and the revoked-but-active account through app-scoped offboard runs.
 */
const apps = {} as Record<(typeof ESTATE_APPS)[number], ScimApp>;
const okta = new OktaStandIn("e2e-recon-okta");
let runtime: Runtime;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "revoke-e2e-reconcile-"));
  process.env.E2E_RECON_OKTA = "e2e-recon-okta";
  await okta.start();
  for (const id of ESTATE_APPS) {
    process.env[`E2E_RECON_${id.toUpperCase()}`] = `token-${id}`;
    apps[id] = await new ScimApp({ token: `token-${id}` }).start();
  }
  writeFileSync(join(dataDir, "roster.csv"), ESTATE_ROSTER_CSV);
  const catalogFile = join(dataDir, "apps.json");
  writeFileSync(
    catalogFile,
    JSON.stringify({
      idp: { okta: { orgUrl: okta.baseUrl, auth: { type: "api-token", tokenRef: "E2E_RECON_OKTA" } } },
      reconcile: { roster: join(dataDir, "roster.csv"), remediate: true },
      apps: [
        ...ESTATE_APPS.map((id) => ({ id, name: id.toUpperCase(), mode: "scim", owner: "o@example.com", scim: { baseUrl: apps[id].baseUrl, tokenRef: `E2E_RECON_${id.toUpperCase()}` } })),
        { id: "payroll", name: "Payroll", mode: "manual", owner: "payroll@example.com" },
      ],
    }),
  );
  runtime = await startRuntime({ dataDir, catalogFile, retryIntervalMs: 0 });
  await seedEstate(runtime.store, apps, okta);
});
afterAll(async () => {
  await runtime?.stop();
  for (const app of Object.values(apps)) await app?.stop();
  await okta.stop();
});

const revoke = (...args: string[]) => runTs("cli/revoke.ts", ["--data-dir", dataDir, ...args], { REVOKE_ACTOR: "e2e-oncall" });

describe("revoke reconcile on the local runtime", () => {
  let report: ReconcileReport;

  it("reports exactly the planted findings (one JSON object on the last line), and remediates through the brake", async () => {
    // Start-up did not reconcile on its own (scheduled daily; not at start-up).
    expect(await runtime.store.queryPrefix("LOCALEXEC", "reconcile-")).toEqual([]);
    const res = await revoke("reconcile", "--json");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    report = JSON.parse(res.stdout.trim().split("\n").pop()!) as ReconcileReport;
    const found = report.apps.flatMap((a) => a.findings.map((f) => [a.appId, f.kind, f.account.userName]));
    expect(found.sort()).toEqual([...ESTATE_EXPECTED].sort());
    expect(report).toMatchObject({ requestedBy: "e2e-oncall", skipped: [{ appId: "payroll" }], remediation: { enabled: true, started: 4, held: 0 } });
  });

  it("the revocations it started end with those accounts inactive in the apps, and nobody else touched", async () => {
    await runtime.idle();
    const active = (app: ScimApp, userName: string) => app.findByUserName(userName)?.active;
    expect(active(apps.crm, "bob@example.com")).toBe(false);
    expect(active(apps.crm, "dave@example.com")).toBe(false);
    expect(active(apps.wiki, "eve@example.com")).toBe(false);
    expect(active(apps.billing, "carol.c")).toBe(false);
    for (const [app, user] of [[apps.crm, "alice@example.com"], [apps.wiki, "alice@example.com"], [apps.crm, "FRANK@EXAMPLE.COM"], [apps.billing, "henry@example.com"], [apps.billing, "mallory@evil.example"]] as const) {
      expect(active(app, user), user).toBe(true);
    }
    const dave = await runtime.store.findSubject({ email: "dave@example.com" });
    expect(await runtime.store.getAccount(dave!.subjectId, "crm")).toMatchObject({ state: "REVOKED", verifiedAt: expect.any(String) });
    // A person who stays keeps their status: only the app was revoked.
    expect(dave!.status).toBe("ACTIVE");
  });

  it("a second run, for one app, prints its Markdown table: the remediated accounts are gone from it", async () => {
    const res = await revoke("reconcile", "--app", "crm");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("### CRM (`crm`)");
    expect(res.stdout).not.toContain("### WIKI");
    expect(res.stdout).toMatch(/5 accounts listed \(2 active\)/);
    expect(res.stdout).toContain("No findings.");
  });

  it("an app that is not in the catalog is said so in one line, with exit code 1, before any run", async () => {
    const before = (await runtime.store.queryPrefix("RECONCILE", "")).length;
    const res = await revoke("reconcile", "--app", "nope", "--json");
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toEqual(["revoke: no app nope in the catalog (crm, wiki, billing, payroll)"]);
    expect((await runtime.store.queryPrefix("RECONCILE", "")).length).toBe(before);
  });
});

describe("revoke reconcile --show", () => {
  it("prints a stored report without starting a run: the latest by default, or the one named", async () => {
    const before = (await runtime.store.queryPrefix("RECONCILE", "")).length;
    expect(before).toBe(2);
    const latest = await revoke("reconcile", "--show", "--json");
    expect(latest.code).toBe(0);
    // The latest: the second run, of the CRM alone.
    expect((JSON.parse(latest.stdout.trim().split("\n").pop()!) as ReconcileReport).apps.map((a) => a.appId)).toEqual(["crm"]);
    const [first] = await runtime.store.queryPrefix("RECONCILE", "");
    const named = await revoke("reconcile", "--show", String(first!.runId));
    expect(named.code).toBe(0);
    expect(named.stdout).toContain(`## Reconciliation ${String(first!.runId)}`);
    expect(named.stdout).toContain("| unknown | mallory@evil.example (");
    expect((await runtime.store.queryPrefix("RECONCILE", "")).length).toBe(before);
    expect((await revoke("reconcile", "--show", "reconcile-never")).stderr).toContain("no reconciliation reconcile-never");
  });
});
