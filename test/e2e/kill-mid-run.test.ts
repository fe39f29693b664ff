import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loseAnswerTimes, ScimApp } from "../../local/scim-app";
import { runTs } from "../helpers/cli";

const ROOT = join(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
const apps: ScimApp[] = [];
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const a of apps) await a.stop();
});

function startRuntime(dataDir: string, catalog: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "local/main.ts"), "--port", "0", "--data-dir", dataDir, "--catalog", catalog], { cwd: ROOT, env: { ...process.env, ...env } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`runtime did not start: ${out}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    });
  });
}

describe("fault: the local runtime is killed in the middle of an offboarding", () => {
  it("after a restart the unfinished run is re-driven and completes; each app ends revoked once in the ledger", async () => {
    // Slow apps, so that the kill lands while SCIM calls are in flight.
    const env = { KILL_A_TOKEN: "a-token", KILL_B_TOKEN: "b-token" };
    const a = await new ScimApp({ token: "a-token", latencyMs: 400 }).start();
    const b = await new ScimApp({ token: "b-token", latencyMs: 400 }).start();
    apps.push(a, b);
    const dataDir = mkdtempSync(join(tmpdir(), "revoke-kill-"));
    const catalog = join(dataDir, "apps.json");
    writeFileSync(
      catalog,
      JSON.stringify({
        apps: [
          { id: "app-a", name: "A", mode: "scim", owner: "o@example.com", scim: { baseUrl: a.baseUrl, tokenRef: "KILL_A_TOKEN" } },
          { id: "app-b", name: "B", mode: "scim", owner: "o@example.com", scim: { baseUrl: b.baseUrl, tokenRef: "KILL_B_TOKEN" } },
        ],
      }),
    );
    const email = "kim@example.com";
    a.jitCreate(email);
    b.jitCreate(email);
    const first = await startRuntime(dataDir, catalog, env);
    const post = (url: string, body: unknown) => fetch(`${url}/events`, { method: "POST", body: JSON.stringify(body) });
    for (const appId of ["app-a", "app-b"]) {
      await post(first.url, { "detail-type": "Identity.Arrived", detail: { subject: { email }, app: { id: appId, accountName: email }, occurredAt: "2026-12-01T00:00:00Z", source: "okta", sourceEventId: `okta:kill-${appId}` } });
    }
    for (let i = 0; i < 100; i++) {
      const s = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "status", email, "--json"]);
      if (s.code === 0 && JSON.parse(s.stdout).apps.length === 2) break;
    }
    await post(first.url, { type: "revoke.hr.termination", eventId: "kill-1", employeeId: "K1", email, effectiveDate: "2026-12-01" });
    // App A carries out its deactivation and never answers; once it has, kill -9: the run dies with the
    // deactivation done at A and not recorded, and B's calls in flight.
    a.inject(loseAnswerTimes(1, "PATCH", "hang"));
    const doneAtA = () => (a.deactivations.get(a.findByUserName(email)!.id) ?? 0) > 0;
    for (let i = 0; i < 800 && !doneAtA(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(doneAtA()).toBe(true);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    await startRuntime(dataDir, catalog, env);
    let report: { status: string; apps: Array<{ id: string; state: string }>; lastRun: { status: string; executionName: string } | null } | undefined;
    for (let i = 0; i < 150; i++) {
      const s = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "status", email, "--json"]);
      report = JSON.parse(s.stdout);
      if (report?.status === "OFFBOARDED") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(report).toMatchObject({ status: "OFFBOARDED", lastRun: { status: "OFFBOARDED" } });
    expect(report!.apps.map((x) => [x.id, x.state]).sort()).toEqual([["app-a", "REVOKED"], ["app-b", "REVOKED"]]);
    expect(a.findByUserName(email)?.active).toBe(false);
    expect(b.findByUserName(email)?.active).toBe(false);
    // Revoked once, as the apps themselves counted it: a deactivation that landed before the kill is read
    // back by the re-drive (the app already says inactive) and not sent again.
    for (const app of [a, b]) {
      const id = app.findByUserName(email)!.id;
      expect(app.deactivations.get(id)).toBe(1);
    }
  }, 90_000);
});
