import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemoPayloads, type DemoApp } from "../../demo/payloads";
import { GraphStandIn, OktaStandIn } from "../../local/idp-standins";
import { type Runtime, startRuntime } from "../../local/runtime";
import { failTimes, ScimApp } from "../../local/scim-app";
import { hmacHex } from "../../functions/lib/webhook-auth";
import { runTs } from "../helpers/cli";
import { oktaEvent } from "../helpers/fixtures";

/**
 * The main job end to end on the embedded default: real HTTP ingress, the bus with the deployed rules,
 * the ASL run locally, dynalite, and real SCIM 2.0 servers whose own stores are checked afterwards.
 */
const apps: DemoApp[] = [
  { id: "crm", name: "CRM", oktaInstanceId: "0oam30ffmvM5cLzxo0h7", tokenEnv: "E2E_CRM_TOKEN" },
  { id: "wiki", name: "Wiki", oktaInstanceId: "0oabe0e2jruaQccDf0h7", tokenEnv: "E2E_WIKI_TOKEN" },
  { id: "flaky", name: "Flaky", oktaInstanceId: "0oaFLAKY000000000001", tokenEnv: "E2E_FLAKY_TOKEN" },
];
/** The Okta group of the fixture's group.user_membership events; in this catalog it grants the CRM. */
const CRM_GROUP = "00g8mo0l5wuTxmoIC0h7";
const payroll = { id: "payroll", name: "Payroll", oktaInstanceId: "0oaPAYROLL0000000001" };
const servers = new Map<string, ScimApp>();
const okta = new OktaStandIn("e2e-okta-token");
const graph = new GraphStandIn("e2e-tenant", "e2e-client", "e2e-graph-secret");
let runtime: Runtime;
let dataDir: string;

const post = async (body: unknown) => {
  const res = await fetch(`${runtime.url}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const termination = (email: string, eventId: string) => ({ type: "revoke.hr.termination", eventId, employeeId: eventId, email, effectiveDate: new Date().toISOString().slice(0, 10) });
/** An SSO of `email` into `app`, from the real fixture event, as the app JIT-creates the account. */
const ssoArrival = (email: string, appId: string, uuid: string, oktaId = `00u${Buffer.from(email).toString("hex").slice(0, 15)}`) => {
  const event = oktaEvent("user.authentication.sso");
  const app = [...apps, payroll].find((a) => a.id === appId)!;
  event.uuid = uuid;
  (event.actor as Record<string, unknown>).alternateId = email;
  (event.actor as Record<string, unknown>).id = oktaId;
  event.target = [
    { id: app.oktaInstanceId, type: "AppInstance", alternateId: app.name, displayName: app.name },
    { id: "0ua0000000000000000", type: "AppUser", alternateId: email, displayName: email },
  ];
  servers.get(appId)?.jitCreate(email);
  return event;
};
const statusOf = async (email: string) => {
  const profile = await runtime.store.findSubject({ email });
  const run = profile?.lastRun ? await runtime.store.getRun(profile.subjectId, profile.lastRun) : undefined;
  return { profile, run, runs: profile ? await runtime.store.listRuns(profile.subjectId) : [] };
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "revoke-e2e-"));
  for (const app of apps) {
    process.env[app.tokenEnv] = `token-${app.id}`;
    servers.set(app.id, await new ScimApp({ token: `token-${app.id}` }).start());
  }
  process.env.E2E_OKTA_TOKEN = "e2e-okta-token";
  process.env.E2E_OKTA_HOOK_SECRET = "Basic ZTJlOmhvb2s=";
  process.env.E2E_HR_HOOK_SECRET = "e2e-hr-secret";
  process.env.E2E_GRAPH_CLIENT_STATE = "e2e-client-state";
  process.env.E2E_GRAPH_SECRET = "e2e-graph-secret";
  await okta.start();
  await graph.start();
  const catalogFile = join(dataDir, "apps.json");
  writeFileSync(
    catalogFile,
    JSON.stringify({
      idp: {
        okta: { orgUrl: okta.baseUrl, auth: { type: "api-token", tokenRef: "E2E_OKTA_TOKEN" } },
        entra: { tenantId: "e2e-tenant", clientId: "e2e-client", graphUrl: graph.graphUrl, tokenUrl: graph.tokenUrl, auth: { type: "client-secret", secretRef: "E2E_GRAPH_SECRET" } },
      },
      ingress: {
        okta: { secretRef: "E2E_OKTA_HOOK_SECRET" },
        hr: { secretRef: "E2E_HR_HOOK_SECRET" },
        graph: { clientStateRef: "E2E_GRAPH_CLIENT_STATE", notificationUrl: "https://revoke.example.com/hooks/graph" },
      },
      apps: [
        // The wiki models its roles as SCIM Groups.
        ...apps.map((a) => ({ id: a.id, name: a.name, mode: "scim", owner: "o@example.com", scim: { baseUrl: servers.get(a.id)!.baseUrl, tokenRef: a.tokenEnv, groups: a.id === "wiki" }, okta: { appInstanceIds: [a.oktaInstanceId], groupIds: a.id === "crm" ? [CRM_GROUP] : [] } })),
        { id: payroll.id, name: payroll.name, mode: "manual", owner: "payroll-admin@example.com", backupOwner: "it-oncall@example.com", okta: { appInstanceIds: [payroll.oktaInstanceId] } },
      ],
    }),
  );
  runtime = await startRuntime({ dataDir, catalogFile, retryIntervalMs: 0 });
});
afterAll(async () => {
  await runtime?.stop();
  for (const s of servers.values()) await s.stop();
  await okta.stop();
  await graph.stop();
});

describe("a real termination revokes JIT accounts and proves it", () => {
  it("demo flow: Okta hook + log-stream arrivals, HR termination twice → one run, both apps inactive on the servers", async () => {
    const payloads = buildDemoPayloads(apps.slice(0, 2), (p, e) => readFileSync(p, e));
    const oktaUser = okta.addUser(payloads.oktaId, payloads.email);
    const entraUser = graph.addUser("e2e-entra-alice", payloads.email);
    for (const arrival of payloads.arrivals) {
      servers.get(arrival.appId)!.jitCreate(arrival.accountName);
      expect((await post(arrival.body)).status).toBe(200);
    }
    expect((await post(payloads.arrivals[0]!.body)).status).toBe(200);
    await runtime.idle();
    expect((await post(payloads.termination)).status).toBe(200);
    expect((await post(payloads.termination)).status).toBe(200);
    await runtime.idle();

    const { profile, run, runs } = await statusOf(payloads.email);
    expect(runs).toHaveLength(1);
    expect(profile).toMatchObject({ status: "OFFBOARDED", hrId: "1001" });
    expect(run).toMatchObject({ status: "OFFBOARDED", trigger: { source: "hr" } });
    for (const appId of ["crm", "wiki"]) {
      expect(servers.get(appId)!.findByUserName(payloads.email)?.active).toBe(false);
      const result = run!.results.find((r) => r.appId === appId)!;
      expect(result).toMatchObject({ state: "REVOKED", revokedAt: expect.any(String), verifiedAt: expect.any(String) });
      const calls = result.evidence.map((e) => `${e.method} ${String(e.path).split("?")[0]!.replace(/\/[0-9a-f-]{36}$/, "/{id}")} ${e.status}`);
      // The wiki models roles as Groups: the person's memberships are looked up and read back too.
      expect(calls).toEqual(
        appId === "wiki"
          ? ["GET /Users 200", "GET /Groups 200", "PATCH /Users/{id} 200", "GET /Users/{id} 200", "GET /Groups 200"]
          : ["GET /Users 200", "PATCH /Users/{id} 200", "GET /Users/{id} 200"],
      );
      expect(JSON.stringify(result.evidence)).not.toContain("token-");
    }
    const exec = await runtime.sfn.describe(run!.runName);
    expect(exec?.status).toBe("SUCCEEDED");
    // The front door, at the IdPs themselves: disabled, no sessions, no tokens, no grants.
    expect(oktaUser).toMatchObject({ status: "DEPROVISIONED", sessions: 0, oauthTokens: 0, grants: 0 });
    expect(entraUser.accountEnabled).toBe(false);
    expect(run!.idpResults.map((i) => [i.id, i.state, i.readBack])).toEqual([
      ["okta", "REVOKED", "DEPROVISIONED"],
      ["entra", "REVOKED", "accountEnabled=false"],
    ]);
    expect(run!.accessSurvivedMs).toEqual(expect.any(Number));
    // Closed before any app was touched.
    const firstAppCall = Math.min(...run!.results.map((r) => Date.parse(String(r.evidence[0]!.at))));
    expect(Math.max(...run!.idpResults.map((i) => Date.parse(i.verifiedAt!)))).toBeLessThanOrEqual(firstAppCall);
  });

  it("an Okta suspension closes the front door only: suspended at Okta, sessions killed, app accounts kept", async () => {
    const suspend = oktaEvent("user.lifecycle.suspend");
    const target = (suspend.target as Array<Record<string, unknown>>)[0]!;
    const email = String(target.alternateId);
    const user = okta.addUser(String(target.id), email);
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000010", String(target.id)));
    await runtime.idle();
    expect((await post(suspend)).status).toBe(200);
    await runtime.idle();
    const { profile, runs } = await statusOf(email);
    const run = runs.find((r) => r.runName.startsWith("suspend-"));
    expect(run).toMatchObject({ status: "SUSPENDED", results: [], idpResults: [expect.objectContaining({ id: "okta", action: "suspend", state: "REVOKED" }), expect.objectContaining({ id: "entra" })] });
    expect(user).toMatchObject({ status: "SUSPENDED", sessions: 0 });
    expect(profile?.status).toBe("ACTIVE");
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(true);
  });

  it("an IdP that is down makes the run NEEDS_ATTENTION even though every app was revoked", async () => {
    const email = "uma@example.com";
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000011"));
    await runtime.idle();
    okta.inject((req, res) => (req.path.startsWith("/api/v1/") ? (res.status(503).send("Service Unavailable"), true) : false));
    await post(termination(email, "t-uma"));
    await runtime.idle();
    okta.clearFaults();
    const { run } = await statusOf(email);
    expect(run?.status).toBe("NEEDS_ATTENTION");
    expect(run?.idpResults.find((i) => i.id === "okta")).toMatchObject({ state: "FAILED", error: { Error: "Transient" } });
    expect(run?.results).toEqual([expect.objectContaining({ appId: "crm", state: "REVOKED" })]);
    expect(run?.accessSurvivedMs).toBeNull();
  });

  it("in an app whose roles are SCIM Groups, the leaver is removed from each group, and only the leaver", async () => {
    const email = "gia@example.com";
    await post(ssoArrival(email, "wiki", "aaaaaaaa-0000-4000-8000-000000000060"));
    await runtime.idle();
    const wiki = servers.get("wiki")!;
    const colleague = wiki.jitCreate("colleague@example.com");
    const editors = wiki.addGroup("editors", [wiki.findByUserName(email)!.id, colleague.id]);
    await post(termination(email, "t-gia"));
    await runtime.idle();
    const { run } = await statusOf(email);
    expect(run?.results[0]).toMatchObject({ appId: "wiki", state: "REVOKED" });
    expect(wiki.groups.get(editors.id)!.members).toEqual([{ value: colleague.id }]);
    expect(run?.results[0]!.evidence.some((e) => e.method === "PATCH" && String(e.path).startsWith("/Groups/"))).toBe(true);
  });

  it("a termination for someone with no recorded arrivals ends OFFBOARDED with nothing to revoke", async () => {
    await post(termination("nobody@example.com", "t-nobody"));
    await runtime.idle();
    const { run } = await statusOf("nobody@example.com");
    expect(run).toMatchObject({ status: "OFFBOARDED", summary: expect.stringContaining("nothing to revoke: no accounts recorded for this person"), results: [] });
  });

  it("an app that answers 503 is retried, then NEEDS_ATTENTION for it alone; the other app is still revoked", async () => {
    const email = "pat@example.com";
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000001"));
    await post(ssoArrival(email, "flaky", "aaaaaaaa-0000-4000-8000-000000000002"));
    await runtime.idle();
    servers.get("flaky")!.inject(failTimes(1000, 503));
    await post(termination(email, "t-pat"));
    await runtime.idle();
    servers.get("flaky")!.clearFaults();
    const { profile, run } = await statusOf(email);
    expect(profile?.status).toBe("NEEDS_ATTENTION");
    expect(run?.results.find((r) => r.appId === "flaky")).toMatchObject({ state: "FAILED", detail: expect.stringContaining("503") });
    expect(run?.results.find((r) => r.appId === "crm")).toMatchObject({ state: "REVOKED" });
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);
    expect(servers.get("flaky")!.findByUserName(email)?.active).toBe(true);
    expect((await runtime.sfn.describe(run!.runName))?.error).toBe("NeedsAttention");
  });

  it("an app that answers 429 then recovers is revoked", async () => {
    const email = "quinn@example.com";
    await post(ssoArrival(email, "flaky", "aaaaaaaa-0000-4000-8000-000000000003"));
    await runtime.idle();
    servers.get("flaky")!.inject(failTimes(2, 429, "PATCH", { "Retry-After": "1" }));
    await post(termination(email, "t-quinn"));
    await runtime.idle();
    servers.get("flaky")!.clearFaults();
    expect((await statusOf(email)).run?.status).toBe("OFFBOARDED");
    expect(servers.get("flaky")!.findByUserName(email)?.active).toBe(false);
  });

  it("an app that says 200 but changes nothing is caught by the read-back", async () => {
    const email = "rae@example.com";
    await post(ssoArrival(email, "flaky", "aaaaaaaa-0000-4000-8000-000000000004"));
    await runtime.idle();
    servers.get("flaky")!.ignoreDeactivations();
    await post(termination(email, "t-rae"));
    await runtime.idle();
    servers.get("flaky")!.clearFaults();
    const { run } = await statusOf(email);
    expect(run?.results[0]).toMatchObject({ appId: "flaky", state: "FAILED", detail: expect.stringContaining("Unverified") });
    expect(run?.status).toBe("NEEDS_ATTENTION");
  });

  it("an arrival after the departure trips the wire: that account is revoked at once", async () => {
    const email = "sam@example.com";
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000005"));
    await runtime.idle();
    await post(termination(email, "t-sam"));
    await runtime.idle();
    expect((await statusOf(email)).profile?.status).toBe("OFFBOARDED");
    await post(ssoArrival(email, "wiki", "aaaaaaaa-0000-4000-8000-000000000006"));
    await runtime.idle();
    const { runs, profile } = await statusOf(email);
    const trip = runs.find((r) => r.runName.startsWith("tripwire-"));
    expect(trip).toMatchObject({ status: "OFFBOARDED", trigger: { reason: "arrival after departure" }, results: [expect.objectContaining({ appId: "wiki", state: "REVOKED" })] });
    expect(servers.get("wiki")!.findByUserName(email)?.active).toBe(false);
    expect(profile?.status).toBe("OFFBOARDED");
  });

  it("malformed and unknown payloads get 400 with a reason and store nothing", async () => {
    const before = (await runtime.store.queryPrefix("LOCALEXEC", "")).length;
    for (const body of ["{", '{"type":"revoke.hr.termination","eventId":"x","employeeId":"1","effectiveDate":"2026-01-01"}', '{"eventType":"com.okta.event_hook"}']) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe("string");
    }
    await runtime.idle();
    expect((await runtime.store.queryPrefix("LOCALEXEC", "")).length).toBe(before);
    expect((await runtime.store.queryPrefix("DLQ", "")).length).toBe(0);
  });

  it("a body over the limit is 413", async () => {
    const res = await fetch(`${runtime.url}/events`, { method: "POST", body: "x".repeat(300 * 1024) });
    expect(res.status).toBe(413);
  });

  it("revoke status --json and a manual offboarding through the CLI, against this runtime", async () => {
    const email = "tess@example.com";
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000007"));
    await runtime.idle();
    const dry = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "offboard", "--subject", email, "--reason", "check", "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout.trim().split("\n").pop()!)).toMatchObject({ dryRun: true, apps: [{ appId: "crm", mode: "scim" }] });
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(true);

    const manual = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "offboard", "--subject", email, "--reason", "compromised laptop", "--wait", "--json"], { REVOKE_ACTOR: "oncall-1" });
    expect(manual.code).toBe(0);
    const status = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "status", email, "--json"]);
    const report = JSON.parse(status.stdout.trim().split("\n").pop()!);
    expect(report).toMatchObject({ subject: email, status: "OFFBOARDED", apps: [{ id: "crm", state: "REVOKED" }], lastRun: { status: "OFFBOARDED", trigger: { source: "manual", actor: "oncall-1", reason: "compromised laptop" } } });
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);

    const unknown = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "status", "ghost@example.com"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toEqual(["revoke: no one known as ghost@example.com"]);

    // A typo offboards no one (it would record a departed stranger whose later arrival the tripwire revokes).
    const typo = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "offboard", "--subject", "tes@example.com", "--reason", "compromised laptop", "--wait"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim().split("\n")).toEqual(["revoke: no one is known as tes@example.com (check the spelling); to offboard someone this pipeline has never seen, add --unknown"]);
    expect(await runtime.store.findSubject({ email: "tes@example.com" })).toBeUndefined();
    const stranger = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "offboard", "--subject", "stranger@example.com", "--reason", "contractor, never signed in", "--unknown", "--wait", "--json"]);
    expect(stranger.code).toBe(0);
    expect((await runtime.store.findSubject({ email: "stranger@example.com" }))?.status).toBe("OFFBOARDED");
  });

  it("a mover: leaving the Okta group that granted the CRM revokes the CRM alone; `revoke offboard --app` does the same by hand; the person stays", async () => {
    const removal = oktaEvent("group.user_membership.add");
    removal.eventType = "group.user_membership.remove";
    const carol = removal.target as Array<{ type: string; id: string; alternateId: string }>;
    const user = carol.find((t) => t.type === "User")!;
    const email = user.alternateId;
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000031", user.id));
    await post(ssoArrival(email, "wiki", "aaaaaaaa-0000-4000-8000-000000000032", user.id));
    await runtime.idle();
    // At Okta she is in no group that grants the CRM any more, and not assigned to it directly.
    okta.addUser(user.id, email);
    expect((await post(removal)).status).toBe(200);
    await post(removal); // Okta redelivers
    await runtime.idle();
    const { profile, runs } = await statusOf(email);
    expect(profile?.status).toBe("ACTIVE");
    expect(runs).toEqual([expect.objectContaining({ status: "REVOKED", results: [expect.objectContaining({ appId: "crm", state: "REVOKED", verifiedAt: expect.any(String) })] })]);
    expect(runs[0]!.idpResults).toEqual([]); // no front door for a mover
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);
    expect(servers.get("wiki")!.findByUserName(email)?.active).toBe(true);
    expect(okta.users.get(user.id)?.status).toBe("ACTIVE");

    const byHand = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "offboard", "--subject", email, "--app", "wiki", "--reason", "left the project", "--wait", "--json"], { REVOKE_ACTOR: "oncall-2" });
    expect(byHand.stderr).toBe("");
    expect(byHand.code).toBe(0);
    const report = JSON.parse(byHand.stdout.trim().split("\n").pop()!);
    expect(report).toMatchObject({ status: "ACTIVE", run: { status: "REVOKED", results: [{ appId: "wiki", state: "REVOKED" }] }, lastRun: { trigger: { source: "manual", actor: "oncall-2", reason: "left the project", brake: "started by an engineer: passes the brake" } } });
    expect(servers.get("wiki")!.findByUserName(email)?.active).toBe(false);

    const noSuchApp = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "offboard", "--subject", email, "--app", "nope", "--reason", "x"]);
    expect(noSuchApp.code).toBe(2);
    expect(noSuchApp.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^revoke: app nope is not in the catalog/)]);
    const revoked = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "extend", email, "crm", "--until", "2099-01-01", "--reason", "x"]);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr.trim()).toBe("revoke: the account in crm is REVOKED: there is nothing to extend");
    const brake = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "brake", "status", "--json"]);
    expect(JSON.parse(brake.stdout.trim())).toMatchObject({ enabled: true, state: "RELEASED", held: [], window: { minutes: 60, limit: 25 } });
  });

  it("the brake by hand through the CLI: a termination is held, shown, released by id, and offboarded once", async () => {
    const cli = (...args: string[]) => runTs("cli/revoke.ts", ["--data-dir", dataDir, ...args], { REVOKE_ACTOR: "oncall-5" });
    const email = "hal@example.com";
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000041"));
    await runtime.idle();
    expect((await cli("brake", "hold", "--reason", "HR feed looks wrong")).code).toBe(0);
    try {
      expect((await post(termination(email, "hal-1"))).status).toBe(200);
      await runtime.idle();
      expect((await statusOf(email)).profile?.status).toBe("PENDING_CONFIRMATION");
      expect(servers.get("crm")!.findByUserName(email)?.active).toBe(true);
      const status = JSON.parse((await cli("brake", "status", "--json")).stdout.trim());
      expect(status).toMatchObject({ state: "ENGAGED", by: "oncall-5", reason: "HR feed looks wrong" });
      const held = status.held.find((h: { sourceEventId: string }) => h.sourceEventId.includes("hal-1"));
      expect(held).toMatchObject({ kind: "departure", state: "HELD" });

      const released = await cli("brake", "release", "--reason", "a real leaver", "--held", held.heldId);
      expect(released.code).toBe(0);
      expect(released.stdout).toContain(`Started 1 held request(s): ${held.heldId}`);
      await runtime.idle();
      const { profile, runs } = await statusOf(email);
      expect(profile?.status).toBe("OFFBOARDED");
      expect(runs).toEqual([expect.objectContaining({ status: "OFFBOARDED", trigger: expect.objectContaining({ source: "hr", brake: "released by an engineer after the brake held it" }) })]);
      expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);
      // Released once; asking again re-sends the start, and the run name makes it the same run.
      expect((await cli("brake", "release", "--reason", "again", "--held", held.heldId)).code).toBe(0);
      await runtime.idle();
      expect((await statusOf(email)).runs).toHaveLength(1);
      const unknown = await cli("brake", "release", "--reason", "x", "--held", "held-000000000000");
      expect(unknown.code).toBe(1);
      expect(unknown.stderr.trim()).toBe("revoke: no held request held-000000000000 (see npx revoke brake status)");
    } finally {
      expect((await cli("brake", "release", "--reason", "test over")).code).toBe(0);
    }
    expect(JSON.parse((await cli("brake", "status", "--json")).stdout.trim())).toMatchObject({ state: "RELEASED", by: "oncall-5" });
  });

  it("an account the app spells differently is never reported revoked: FAILED, NEEDS_ATTENTION", async () => {
    const email = "vic@example.com";
    const event = ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000020");
    // The app stores its own casing, in the user name and the email both.
    Object.assign(servers.get("crm")!.findByUserName(email)!, { userName: "Vic@Example.COM", emails: [{ value: "Vic@Example.COM", primary: true }] });
    await post(event);
    await runtime.idle();
    await post(termination(email, "t-vic"));
    await runtime.idle();
    const { run } = await statusOf(email);
    expect(run?.status).toBe("NEEDS_ATTENTION");
    expect(run?.results[0]).toMatchObject({ appId: "crm", state: "FAILED", detail: expect.stringContaining("no account matching") });
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(true);
  });

  it("a sign-in after offboarding that re-creates the account trips the wire and revokes the new account", async () => {
    const email = "wes@example.com";
    await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000021"));
    await runtime.idle();
    await post(termination(email, "t-wes"));
    await runtime.idle();
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);
    // The app provisions a fresh account at the next SSO.
    servers.get("crm")!.users.delete(servers.get("crm")!.findByUserName(email)!.id);
    const again = ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000022");
    again.published = new Date().toISOString();
    await post(again);
    await runtime.idle();
    const { runs, profile } = await statusOf(email);
    expect(runs.find((r) => r.runName.startsWith("tripwire-"))).toMatchObject({ status: "OFFBOARDED", results: [expect.objectContaining({ appId: "crm", state: "REVOKED" })] });
    expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);
    expect(profile?.status).toBe("OFFBOARDED");
  });

  it("hostile requests to the AWS-protocol endpoint get 400s and leave the runtime working", async () => {
    const aws = (target: string, body: string) => fetch(`${runtime.url}/`, { method: "POST", headers: { "x-amz-target": target, "content-type": "application/x-amz-json-1.1" }, body });
    const infinity = await aws("AWSEvents.PutEvents", JSON.stringify({ Entries: [{ Source: "revoke.pipeline", DetailType: "Identity.Departed", Detail: '{"x":1e400}' }] }));
    expect(infinity.status).toBe(200);
    await runtime.idle();
    expect((await runtime.store.queryPrefix("DLQ", "")).some((d) => String(d.reason).startsWith("ZodError"))).toBe(true);
    expect((await aws("AWSStepFunctions.StartExecution", JSON.stringify({ stateMachineArn: runtime.stateMachineArn, name: "badjson", input: "{not json" }))).status).toBe(400);
    expect(await runtime.sfn.describe("badjson")).toBeUndefined();
    expect((await aws("AWSStepFunctions.StartExecution", JSON.stringify({ stateMachineArn: runtime.stateMachineArn, name: "../../etc", input: "{}" }))).status).toBe(400);
    expect((await aws("AWSStepFunctions.StartExecution", JSON.stringify({ stateMachineArn: runtime.stateMachineArn, name: "huge", input: JSON.stringify({ x: "y".repeat(300_000) }) }))).status).toBe(413);
    expect((await aws("AWSEvents.PutEvents", JSON.stringify({ Entries: { a: 1 } }))).status).toBe(400);
    expect((await aws("AWSStepFunctions.DescribeExecution", JSON.stringify({ executionArn: "" }))).status).toBe(400);
    expect((await fetch(`${runtime.url}/health`)).status).toBe(200);
  });

  describe("apps without SCIM: human tasks through the CLI", () => {
    const waitForOpenTask = async (runName?: string) => {
      for (let i = 0; i < 200; i++) {
        const task = (await runtime.store.listTasks()).find((t) => t.state === "OPEN" && (!runName || t.runName === runName));
        if (task) return task;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("no open task appeared");
    };

    it("the owner is told, `revoke tasks` lists it without the token, `revoke confirm` finishes the offboarding, a second confirm says so", async () => {
      const email = "cam@example.com";
      await post(ssoArrival(email, "payroll", "aaaaaaaa-0000-4000-8000-000000000050"));
      await runtime.idle();
      await post(termination(email, "t-cam"));
      const task = await waitForOpenTask();
      expect(readFileSync(join(dataDir, "notifications.log"), "utf8")).toContain(`revoke confirm ${task.taskId}`);
      const listed = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "tasks", "--json"]);
      const tasks = JSON.parse(listed.stdout);
      expect(tasks).toEqual([expect.objectContaining({ taskId: task.taskId, assignee: "payroll-admin@example.com", appId: "payroll", state: "OPEN" })]);
      expect(listed.stdout).not.toContain(task.token);
      const confirmed = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "confirm", task.taskId, "--note", "removed in the admin console"], { REVOKE_ACTOR: "payroll-admin" });
      expect(confirmed.code).toBe(0);
      await runtime.idle();
      const { run } = await statusOf(email);
      expect(run).toMatchObject({ status: "OFFBOARDED", results: [expect.objectContaining({ appId: "payroll", state: "REVOKED", detail: expect.stringContaining("confirmed by payroll-admin: removed in the admin console") })] });
      const again = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "confirm", task.taskId], { REVOKE_ACTOR: "someone-else" });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("already confirmed by payroll-admin");
    });

    it("`revoke reject` needs a reason and keeps the account as an explicit, visible exception", async () => {
      const email = "dee@example.com";
      await post(ssoArrival(email, "payroll", "aaaaaaaa-0000-4000-8000-000000000051"));
      await runtime.idle();
      await post(termination(email, "t-dee"));
      const task = await waitForOpenTask();
      expect((await runTs("cli/revoke.ts", ["--data-dir", dataDir, "reject", task.taskId, "--reason", "  "])).code).toBe(2);
      expect((await runTs("cli/revoke.ts", ["--data-dir", dataDir, "reject", task.taskId, "--reason", "legal hold"], { REVOKE_ACTOR: "legal" })).code).toBe(0);
      await runtime.idle();
      const { run } = await statusOf(email);
      expect(run?.results[0]).toMatchObject({ appId: "payroll", state: "RETAINED", detail: expect.stringContaining("legal hold (by legal)") });
      expect(run?.summary).toContain("retained by owner decision (payroll)");
      expect((await runTs("cli/revoke.ts", ["--data-dir", dataDir, "confirm", task.taskId])).code).toBe(1);
    });
  });

  describe("vendor webhooks over HTTP", () => {
    const hook = (path: string, init: RequestInit) => fetch(`${runtime.url}${path}`, init);
    const signedHr = (body: unknown) => {
      const text = JSON.stringify(body);
      const ts = String(Math.floor(Date.now() / 1000));
      return { method: "POST", body: text, headers: { "content-type": "application/json", "x-revoke-timestamp": ts, "x-revoke-signature": `v1=${hmacHex("e2e-hr-secret", `${ts}.${text}`)}` } };
    };

    it("Okta: the verification handshake, then an authenticated delivery recorded once however often it comes", async () => {
      const challenge = await hook("/hooks/okta", { headers: { "X-Okta-Verification-Challenge": "abc123", Authorization: "Basic ZTJlOmhvb2s=" } });
      expect(await challenge.json()).toEqual({ verification: "abc123" });
      const email = "yan@example.com";
      const event = ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000030");
      const delivery = { eventType: "com.okta.event_hook", eventTypeVersion: "1.0", data: { events: [event] } };
      for (let i = 0; i < 3; i++) {
        const res = await hook("/hooks/okta", { method: "POST", body: JSON.stringify(delivery), headers: { authorization: "Basic ZTJlOmhvb2s=", "content-type": "application/json" } });
        expect(res.status).toBe(200);
      }
      await runtime.idle();
      const { profile } = await statusOf(email);
      expect(await runtime.store.listAccounts(profile!.subjectId)).toEqual([expect.objectContaining({ appId: "crm", sourceEventId: "okta:aaaaaaaa-0000-4000-8000-000000000030" })]);
    });

    it("Okta: a wrong secret is 401 and nothing reaches the bus or the store", async () => {
      const event = ssoArrival("zed@example.com", "crm", "aaaaaaaa-0000-4000-8000-000000000031");
      const res = await hook("/hooks/okta", { method: "POST", body: JSON.stringify({ eventType: "com.okta.event_hook", data: { events: [event] } }), headers: { authorization: "Basic bm9wZQ==" } });
      expect(res.status).toBe(401);
      await runtime.idle();
      expect(await runtime.store.findSubject({ email: "zed@example.com" })).toBeUndefined();
    });

    it("HR: a signed termination for a later day is scheduled, and a signed cancellation withdraws it before it starts", async () => {
      const email = "ada@example.com";
      await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000032"));
      await runtime.idle();
      const later = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
      const res = await hook("/hooks/hr", signedHr({ type: "revoke.hr.termination", eventId: "ada-1", employeeId: "A1", email, effectiveDate: later }));
      expect(await res.json()).toMatchObject({ accepted: 1, events: [{ effectiveAt: `${later}T00:00:00.000Z` }] });
      await runtime.idle();
      const { profile } = await statusOf(email);
      expect(profile?.status).toBe("ACTIVE");
      expect(await runtime.store.queryPrefix(`SUBJECT#${profile!.subjectId}`, "SCHEDULED#")).toEqual([expect.objectContaining({ state: "SCHEDULED" })]);
      await hook("/hooks/hr", signedHr({ type: "revoke.hr.termination.cancelled", eventId: "ada-2", cancelsEventId: "ada-1", employeeId: "A1", email }));
      await runtime.idle();
      expect(await runtime.store.queryPrefix(`SUBJECT#${profile!.subjectId}`, "SCHEDULED#")).toEqual([expect.objectContaining({ state: "CANCELLED" })]);
      expect(await runtime.store.dueDepartures(`${later}T23:59:59.999Z`)).toEqual([]);
    });

    it("Graph: a user disabled in Entra ID is offboarded from the notification alone, front door and apps", async () => {
      const email = "bea@example.com";
      const entraUser = graph.addUser("entra-bea", email);
      await post(ssoArrival(email, "crm", "aaaaaaaa-0000-4000-8000-000000000040"));
      await runtime.idle();
      entraUser.accountEnabled = false; // an admin disables her in Entra ID
      const notification = { value: [{ subscriptionId: "sub-1", clientState: "e2e-client-state", changeType: "updated", resource: "Users/entra-bea", resourceData: { "@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/entra-bea", id: "entra-bea" }, tenantId: "e2e-tenant" }] };
      for (let i = 0; i < 3; i++) expect((await hook("/hooks/graph", { method: "POST", body: JSON.stringify(notification), headers: { "content-type": "application/json" } })).status).toBe(202);
      await runtime.idle();
      const { profile, runs } = await statusOf(email);
      expect(runs).toHaveLength(1);
      expect(profile).toMatchObject({ status: "OFFBOARDED", entraId: "entra-bea" });
      expect(runs[0]).toMatchObject({ trigger: { source: "entra", sourceEventId: "entra:entra-bea:disabled" } });
      expect(servers.get("crm")!.findByUserName(email)?.active).toBe(false);
    });

    it("Graph: the validation handshake echoes the token as text/plain on both URLs", async () => {
      for (const path of ["/hooks/graph", "/hooks/graph/lifecycle"]) {
        const res = await hook(`${path}?validationToken=${encodeURIComponent("token with spaces+plus")}`, { method: "POST" });
        expect(res.headers.get("content-type")).toContain("text/plain");
        expect(await res.text()).toBe("token with spaces+plus");
      }
    });

    it("revoke graph subscribe creates the users subscription through the bus", async () => {
      const out = await runTs("cli/revoke.ts", ["--data-dir", dataDir, "graph", "subscribe"]);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/Graph subscription \w+, expires/);
      expect([...graph.subscriptions.values()]).toEqual([expect.objectContaining({ notificationUrl: "https://revoke.example.com/hooks/graph", clientState: "e2e-client-state" })]);
    });

    it("a web page in the operator's browser cannot use the operator endpoints: cross-site, cross-origin and rebound requests are 403 and change nothing", async () => {
      const email = "csrf-target@example.com";
      const departure = (id: string) => JSON.stringify({ "detail-type": "Identity.Departed", detail: { subject: { email }, occurredAt: "2026-12-01T00:00:00Z", source: "manual", sourceEventId: id, reason: "csrf" } });
      const port = new URL(runtime.url).port;
      const post = (path: string, headers: Record<string, string>, body: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", reject);
          req.end(body);
        });
      const text = { "content-type": "text/plain;charset=UTF-8" };
      expect(await post("/events", { ...text, origin: "https://evil.example" }, departure("csrf-1"))).toBe(403);
      expect(await post("/events", { ...text, "sec-fetch-site": "cross-site" }, departure("csrf-2"))).toBe(403);
      expect(await post("/events", { ...text, host: `rebound.evil.example:${port}`, origin: `http://rebound.evil.example:${port}` }, departure("csrf-3"))).toBe(403);
      const amz = { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.PutEvents", origin: "https://evil.example" };
      expect(await post("/", amz, JSON.stringify({ Entries: [{ Source: "revoke.manual", DetailType: "Identity.Departed", Detail: departure("csrf-4") }] }))).toBe(403);
      // Nor the ledger itself: dynalite would answer any page's preflight with Access-Control-Allow-Origin: *.
      const preflight = await fetch(runtime.dynamoEndpoint, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
      expect(preflight.status).toBe(403);
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
      const scan = await fetch(runtime.dynamoEndpoint, { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.Scan" }, body: JSON.stringify({ TableName: "revoke-local" }) });
      expect(scan.status).toBe(403);
      await runtime.idle();
      expect(await runtime.store.findSubject({ email })).toBeUndefined();
      // The operator's own tools (curl, the SDK, the CLI) send neither header, by loopback name or address.
      expect(await post("/events", { "content-type": "application/json", host: `localhost:${port}` }, departure("ok-1"))).toBe(200);
    });

    it("an unconfigured hook answers 404 and an unknown path 404; a wrong method 405", async () => {
      expect((await hook("/hooks/bamboohr", { method: "POST", body: "{}" })).status).toBe(404);
      expect((await hook("/hooks/nope", { method: "POST", body: "{}" })).status).toBe(404);
      expect((await hook("/events", { method: "GET" })).status).toBe(405);
    });
  });
});
