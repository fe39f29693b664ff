import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runTs } from "../helpers/cli";
import { oktaEvent } from "../helpers/fixtures";

const ROOT = join(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** `npm start` as a user runs it (same entry), on a free port; resolves with its URL once it listens. */
function startLocalRuntime(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "local/main.ts"), "--port", "0", "--data-dir", dataDir], { cwd: ROOT });
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
    child.on("exit", (code) => reject(new Error(`runtime exited ${code}: ${out}`)));
  });
}

describe("the local runtime keeps its state across a restart", () => {
  it("an arrival recorded before a hard kill is there after the restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "revoke-restart-"));
    const first = await startLocalRuntime(dataDir);
    const res = await fetch(`${first.url}/events`, { method: "POST", body: JSON.stringify(oktaEvent("user.authentication.sso")) });
    expect(res.status).toBe(200);
    // Delivery is asynchronous: poll through the CLI until the arrival is recorded, then kill -9.
    let status = { code: 1 as number | null, stdout: "" };
    for (let i = 0; i < 40 && status.code !== 0; i++) status = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "status", "alice@example.com", "--json"]);
    expect(status.code).toBe(0);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    await startLocalRuntime(dataDir);
    const after = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "status", "alice@example.com", "--json"]);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ status: "ACTIVE", apps: [{ id: "crm", state: "ACTIVE", via: "jit-sso" }] });
  });

  it("with no runtime running, the CLI says so in one line and exits non-zero", async () => {
    const out = await runTs("cli/revoke.ts", ["--data-dir", mkdtempSync(join(tmpdir(), "revoke-none-")), "status", "a@example.com"]);
    expect(out.code).toBe(1);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr).toMatch(/no local runtime found/);
  });
});

describe("npm run demo -- --json (the README's first command)", () => {
  it("exits 0 and prints one JSON summary as its last line, every app REVOKED and verified", async () => {
    const out = await runTs("demo/demo.ts", ["--auto-confirm", "--json"]);
    expect(out.stderr).not.toMatch(/demo failed/);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split("\n");
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary).toMatchObject({ subject: "alice@example.com", status: "OFFBOARDED", executionName: expect.stringMatching(/^offboard-/) });
    expect(summary.apps.map((a: { id: string; mode: string }) => [a.id, a.mode])).toEqual([["crm", "scim"], ["wiki", "scim"], ["payroll", "manual"]]);
    expect(summary.idp).toEqual([
      expect.objectContaining({ id: "okta", action: "deactivate", state: "REVOKED", sessionsRevokedAt: expect.any(String), verifiedAt: expect.any(String) }),
      expect.objectContaining({ id: "entra", action: "deactivate", state: "REVOKED", sessionsRevokedAt: expect.any(String), verifiedAt: expect.any(String) }),
    ]);
    expect(summary.accessSurvivedMs).toEqual(expect.any(Number));
    for (const app of summary.apps) {
      expect(app).toMatchObject({ state: "REVOKED", revokedAt: expect.any(String), verifiedAt: expect.any(String) });
      if (app.mode === "scim") expect(app.appSays).toBe("active=false");
    }
  });
});
