/**
 * `npm run demo [-- --json] [--data-dir <dir>]`: the main job on the embedded default.
 *
 * Starts the local runtime and two real SCIM 2.0 apps, replays real Okta System Log events in which a
 * person signs in to both apps for the first time (JIT arrivals), then an HR termination for that
 * person, delivered twice. The offboard state machine revokes the person in both apps and reads both
 * back; the demo then checks the apps' own stores and prints what was done. Exit 0 only when every
 * app is REVOKED and verified.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { GraphStandIn, OktaStandIn } from "../local/idp-standins";
import { ScimApp } from "../local/scim-app";
import { startRuntime } from "../local/runtime";
import { buildDemoPayloads, type DemoApp } from "./payloads";

const { values: args } = parseArgs({
  options: { json: { type: "boolean", default: false }, "data-dir": { type: "string" }, "auto-confirm": { type: "boolean", default: false } },
  allowPositionals: false,
});
const jsonMode = args.json;
// In --json mode the narrative goes to stderr, so stdout carries exactly one JSON line.
const say = (line: string) => (jsonMode ? process.stderr : process.stdout).write(`${line}\n`);

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function main(): Promise<number> {
  const started = Date.now();
  const dataDir = resolve(args["data-dir"] ?? mkdtempSync(join(tmpdir(), "revoke-demo-")));

  // Two SaaS apps that provision just in time and speak SCIM 2.0. Their tokens live only in this
  // process's environment, referenced by name from the catalog, as secrets would be.
  const apps: DemoApp[] = [
    { id: "crm", name: "Example CRM (SAML)", oktaInstanceId: "0oam30ffmvM5cLzxo0h7", tokenEnv: "DEMO_CRM_SCIM_TOKEN" },
    { id: "wiki", name: "Example Wiki (SAML)", oktaInstanceId: "0oabe0e2jruaQccDf0h7", tokenEnv: "DEMO_WIKI_SCIM_TOKEN" },
  ];
  const manualApp: DemoApp = { id: "payroll", name: "Payroll (no SCIM)", oktaInstanceId: "0oaz9fj21WKqTeaqs1d6", tokenEnv: "" };
  const servers = new Map<string, ScimApp>();
  for (const app of apps) {
    const token = randomBytes(24).toString("hex");
    process.env[app.tokenEnv] = token;
    servers.set(app.id, await new ScimApp({ token }).start());
  }
  // The IdPs the person lives in, as local stand-ins of the Okta Management API and Microsoft Graph.
  process.env.DEMO_OKTA_API_TOKEN = randomBytes(24).toString("hex");
  process.env.DEMO_GRAPH_CLIENT_SECRET = randomBytes(24).toString("hex");
  const okta = await new OktaStandIn(process.env.DEMO_OKTA_API_TOKEN).start();
  const graph = await new GraphStandIn("00000000-0000-0000-0000-000000000001", "revoke-demo", process.env.DEMO_GRAPH_CLIENT_SECRET).start();
  const catalogFile = join(dataDir, "apps.json");
  writeFileSync(
    catalogFile,
    JSON.stringify(
      {
        idp: {
          okta: { orgUrl: okta.baseUrl, auth: { type: "api-token", tokenRef: "DEMO_OKTA_API_TOKEN" } },
          entra: {
            tenantId: "00000000-0000-0000-0000-000000000001",
            clientId: "revoke-demo",
            graphUrl: graph.graphUrl,
            tokenUrl: graph.tokenUrl,
            auth: { type: "client-secret", secretRef: "DEMO_GRAPH_CLIENT_SECRET" },
          },
        },
        apps: [
          ...apps.map((app) => ({
            id: app.id,
            name: app.name,
            mode: "scim",
            owner: "app-owners@example.com",
            scim: { baseUrl: servers.get(app.id)!.baseUrl, tokenRef: app.tokenEnv },
            okta: { appInstanceIds: [app.oktaInstanceId] },
          })),
          // An app with no SCIM and no API: a person removes the account and confirms.
          { id: manualApp.id, name: manualApp.name, mode: "manual", owner: "payroll-admin@example.com", backupOwner: "it-oncall@example.com", okta: { appInstanceIds: [manualApp.oktaInstanceId] } },
        ],
      },
      null,
      2,
    ),
  );

  const runtime = await startRuntime({ dataDir, catalogFile, log: (line) => say(`  [runtime] ${line}`) });
  say(`Local runtime on ${runtime.url} (DynamoDB ${runtime.dynamoEndpoint}, data in ${dataDir})`);
  say(`SCIM apps: ${apps.map((a) => `${a.id} at ${servers.get(a.id)!.baseUrl}`).join(", ")}`);
  say(`IdP stand-ins: Okta at ${okta.baseUrl}, Microsoft Graph at ${graph.graphUrl}`);
  try {
    const payloads = buildDemoPayloads([...apps, manualApp], readFileSync);
    const oktaUser = okta.addUser(payloads.oktaId, payloads.email);
    const entraUser = graph.addUser("11111111-2222-3333-4444-555555555555", payloads.email);
    say("\n1. JIT arrivals: the person signs in to each app through Okta for the first time");
    for (const arrival of payloads.arrivals) {
      servers.get(arrival.appId)?.jitCreate(arrival.accountName);
      const res = await post(`${runtime.url}/events`, arrival.body);
      say(`   ${arrival.appId}: app created ${arrival.accountName} at first login; Okta ${arrival.via} → POST /events ${res.status}`);
    }
    const replay = await post(`${runtime.url}/events`, payloads.arrivals[0]!.body);
    say(`   replay of the first delivery → POST /events ${replay.status} (recorded once; replays are no-ops)`);
    await runtime.idle();

    say("\n2. HR termination (generic HR event), delivered twice as webhooks are");
    const departureSent = Date.now();
    for (let i = 0; i < 2; i++) {
      const res = await post(`${runtime.url}/events`, payloads.termination);
      say(`   delivery ${i + 1} → POST /events ${res.status}`);
    }
    await answerManualTask(runtime, say, args["auto-confirm"]);
    await runtime.idle();

    const profile = await runtime.store.findSubject({ email: payloads.email });
    const runName = profile?.lastRun ?? profile?.currentRun;
    const run = profile && runName ? await runtime.store.getRun(profile.subjectId, runName) : undefined;
    const runs = profile ? await runtime.store.listRuns(profile.subjectId) : [];
    if (!profile || !run) throw new Error("no offboarding run was recorded for the departure");

    say(`\n3. Offboarding ${run.runName}: ${run.status} — ${run.summary ?? ""}`);
    say(`   runs started for this departure: ${runs.length} (duplicates started none)`);
    let allVerified = run.status === "OFFBOARDED";
    say("   front door, closed before any app:");
    const idpOut = [];
    for (const idp of run.idpResults) {
      const now = idp.id === "okta" ? `Okta now says ${oktaUser.status}, ${oktaUser.sessions} sessions, ${oktaUser.oauthTokens} OAuth tokens, ${oktaUser.grants} grants` : `Graph now says accountEnabled=${entraUser.accountEnabled}, sessions valid from ${entraUser.signInSessionsValidFromDateTime}`;
      say(`   ${idp.id.padEnd(7)} ${idp.state}  ${idp.note ?? idp.error?.Error ?? ""}; sessions revoked ${idp.sessionsRevokedAt ?? "-"}; verified ${idp.verifiedAt ?? "-"} (${now})`);
      allVerified &&= idp.state === "REVOKED" && Boolean(idp.verifiedAt);
      idpOut.push({ id: idp.id, action: idp.action, state: idp.state, sessionsRevokedAt: idp.sessionsRevokedAt ?? null, verifiedAt: idp.verifiedAt ?? null, readBack: idp.readBack ?? null });
    }
    if (run.idpResults.length < 2) allVerified = false;
    say("   apps:");
    const appsOut = [];
    const width = Math.max(...[...apps, manualApp].map((a) => a.id.length));
    for (const app of [...apps, manualApp]) {
      const result = run.results.find((r) => r.appId === app.id);
      const server = servers.get(app.id);
      const user = server?.findByUserName(payloads.email);
      const appSays = !server ? "nothing to read back (no API): the owner's confirmation is the evidence" : user ? `active=${String(user.active)}` : "no such user";
      const verified = result?.state === "REVOKED" && Boolean(result.verifiedAt) && user?.active !== true;
      allVerified &&= verified;
      const requests = result?.evidence.length ?? 0;
      const evidence = server ? `${requests} request${requests === 1 ? "" : "s"} in evidence; ` : "";
      say(
        `   ${app.id.padEnd(width)} ${result?.state ?? "MISSING"}  revoked ${result?.revokedAt ?? "-"}  verified ${result?.verifiedAt ?? "-"}  ` +
          `(${result?.detail ?? "no result"}; ${evidence}the app itself now says ${appSays})`,
      );
      appsOut.push({ id: app.id, mode: result?.mode ?? (server ? "scim" : "manual"), state: result?.state ?? "MISSING", revokedAt: result?.revokedAt ?? null, verifiedAt: result?.verifiedAt ?? null, appSays });
    }
    const tookMs = Date.now() - departureSent;
    say(`\n   departure to verified: ${tookMs} ms; access survived the departure event by ${run.accessSurvivedMs ?? "?"} ms; whole demo ${Date.now() - started} ms`);
    const summary = {
      subject: payloads.email,
      subjectId: profile.subjectId,
      status: run.status,
      executionName: run.runName,
      apps: appsOut,
      idp: idpOut,
      accessSurvivedMs: run.accessSurvivedMs ?? null,
      runsStarted: runs.length,
      departureToVerifiedMs: tookMs,
      dataDir,
    };
    if (jsonMode) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else say(allVerified ? "\nEvery app revoked and verified (read back from the app, or confirmed by its owner where it has no API)." : "\nNOT every app was revoked and verified: see above.");
    return allVerified ? 0 : 1;
  } finally {
    await runtime.stop();
    for (const server of servers.values()) await server.stop();
    await okta.stop();
    await graph.stop();
  }
}

/**
 * The payroll app has no SCIM: its owner gets a task. With --auto-confirm the demo answers it the
 * way `revoke confirm` does (SendTaskSuccess on the task's token); without it, the demo waits for a
 * person to run the printed command.
 */
async function answerManualTask(runtime: Awaited<ReturnType<typeof startRuntime>>, say: (l: string) => void, autoConfirm: boolean) {
  let task;
  for (let i = 0; i < 200 && !task; i++) {
    task = (await runtime.store.listTasks()).find((t) => t.state === "OPEN");
    if (!task) await new Promise((r) => setTimeout(r, 25));
  }
  if (!task) return;
  say(`   task ${task.taskId} for ${task.assignee}: remove ${task.accountName} from ${task.appName} by ${task.deadline} (notification in notifications.log)`);
  if (!autoConfirm) {
    say(`   waiting for a person: REVOKE_DATA_DIR=${args["data-dir"] ?? "<the data dir above>"} npx revoke confirm ${task.taskId} --note "removed"`);
    return;
  }
  const sfn = new SFNClient({ endpoint: runtime.url, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const now = new Date().toISOString();
  await sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify({ confirmedBy: "payroll-admin@example.com (demo --auto-confirm)", note: "account removed in the payroll admin console", confirmedAt: now, taskId: task.taskId }) }));
  await runtime.store.closeTask(task.taskId, { state: "CONFIRMED", closedAt: now, closedBy: "payroll-admin@example.com (demo --auto-confirm)" });
  say(`   --auto-confirm: confirmed ${task.taskId} as the payroll admin`);
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`demo failed: ${e.message}\n`);
    process.exit(1);
  },
);

