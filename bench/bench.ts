/**
 * `npm run bench -- [--users N] [--apps M] [--api-latency-ms L] [--rate-limit R] [--arrival-rate D] [--json]`
 *
 * Drives N departures across M SCIM apps (real scimmy servers with injected latency L and, when R is
 * given, a per-app limit of R requests per minute that the pipeline must keep) through the local
 * runtime, and prints what it measured. The departures arrive all at once (a mass departure: the
 * throughput case), or D a second (a steady stream the engine keeps up with: the latency case).
 * With --json the last line is one JSON object.
 * Figures are measured on this machine; the AWS cost is an estimate whose prices and assumptions are
 * printed with it.
 */
import "../local/log-level";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { FUNCTION_ENTRIES } from "../functions/lib/rules";
import { lambdaEsbuildOptions } from "../infra/bundling";
import { startRuntime } from "../local/runtime";
import { ScimFleet } from "./scim-fleet";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "100" },
    apps: { type: "string", default: "3" },
    "api-latency-ms": { type: "string", default: "0" },
    "rate-limit": { type: "string" },
    "arrival-rate": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const users = Number(values.users);
const appCount = Number(values.apps);
const latencyMs = Number(values["api-latency-ms"]);
const rateLimit = values["rate-limit"] ? Number(values["rate-limit"]) : undefined;
/** Departures sent per second; absent: all at once. */
const arrivalRate = values["arrival-rate"] ? Number(values["arrival-rate"]) : undefined;
const optional = { ...(rateLimit !== undefined ? { "rate-limit": rateLimit } : {}), ...(arrivalRate !== undefined ? { "arrival-rate": arrivalRate } : {}) };
for (const [name, n] of Object.entries({ users, apps: appCount, "api-latency-ms": latencyMs, ...optional })) {
  if (!Number.isInteger(n) || n < 0 || (name !== "api-latency-ms" && n < 1)) {
    process.stderr.write(`bench: --${name} must be a whole number${name === "api-latency-ms" ? "" : " of at least 1"}\n`);
    process.exit(2);
  }
}
const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? 0 };
};

/**
 * Each handler bundled with the stack's own bundling options (infra/bundling.ts), measured in bytes:
 * the code file (index.mjs) without its separate source map.
 */
async function bundleSizes(): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const [name, entry] of Object.entries(FUNCTION_ENTRIES)) {
    const out = await build({ ...lambdaEsbuildOptions(resolve(import.meta.dirname, "..", entry)), write: false, logLevel: "silent" });
    sizes[name] = out.outputFiles.find((f) => f.path.endsWith(".mjs"))!.contents.byteLength;
  }
  return sizes;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "revoke-bench-"));
  const tokens = Array.from({ length: appCount }, (_, i) => (process.env[`BENCH_APP_${i}_TOKEN`] = randomBytes(16).toString("hex")));
  const fleet = await ScimFleet.start(tokens, latencyMs);
  const catalogFile = join(dataDir, "apps.json");
  writeFileSync(
    catalogFile,
    JSON.stringify({
      // A thousand departures in minutes is exactly what the mass-departure brake holds; the bench
      // measures the pipeline behind it, so it runs with the brake off.
      brake: { enabled: false },
      apps: fleet.baseUrls.map((baseUrl, i) => ({
        id: `app-${i}`,
        name: `App ${i}`,
        mode: "scim",
        owner: "o@example.com",
        scim: { baseUrl, tokenRef: `BENCH_APP_${i}_TOKEN`, ...(rateLimit ? { rateLimitPerMinute: rateLimit } : {}) },
      })),
    }),
  );
  const runtime = await startRuntime({ dataDir, catalogFile });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    say(`Seeding ${users} people with an account in each of ${appCount} SCIM apps (latency ${latencyMs} ms${rateLimit ? `, ${rateLimit} requests/min per app` : ""})…`);
    const emails = Array.from({ length: users }, (_, i) => `person${i}@bench.example.com`);
    await fleet.seed(emails);
    // Ten at a time: seeding is not measured, only made quicker than one round trip after another.
    for (let i = 0; i < emails.length; i += 10) {
      await Promise.all(
        emails.slice(i, i + 10).map(async (email) => {
          const { subjectId } = await runtime.store.resolveSubject({ email }, new Date().toISOString());
          for (let a = 0; a < appCount; a++) {
            await runtime.store.recordArrival({ subjectId, appId: `app-${a}`, accountName: email, firstSeenAt: new Date().toISOString(), via: "jit-sso", source: "okta", sourceEventId: `bench:${email}:${a}` });
          }
        }),
      );
    }
    const transitionsBefore = runtime.sfn.transitions;
    const invocationsBefore = runtime.lambdas.invocations;
    const { requests: scimBefore, cpuMicros: scimCpuBefore } = await fleet.stats();
    const dynamoBefore = await runtime.dynamoRequestCounts();
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();

    say(`Sending ${users} HR terminations${arrivalRate ? `, ${arrivalRate} a second` : " at once"}…`);
    const sentAt = new Map<string, number>();
    const started = Date.now();
    await Promise.all(
      emails.map(async (email, i) => {
        // Open loop: each departure is sent at its own time, however far behind the engine is.
        if (arrivalRate) await new Promise((r) => setTimeout(r, started + (i / arrivalRate) * 1000 - Date.now()));
        sentAt.set(email, Date.now());
        const res = await fetch(`${runtime.url}/events`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: "revoke.hr.termination", eventId: `bench-${i}`, employeeId: `B${i}`, email, effectiveDate: new Date().toISOString() }),
        });
        if (res.status !== 200) throw new Error(`POST /events answered ${res.status}`);
      }),
    );
    await runtime.idle();
    const wallMs = Date.now() - started;
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpuBefore);
    const mainThreadBusy = performance.eventLoopUtilization(eluBefore).utilization;
    const dynamoAfter = await runtime.dynamoRequestCounts();

    const perOffboarding: number[] = [];
    const perAccount: number[] = [];
    // Per account: the time its SCIM calls took (as the evidence records them), and the rest of its
    // latency, which is the engine's: queueing, transitions, handlers, the table.
    const downstream: number[] = [];
    const engineOverhead: number[] = [];
    // Time spent waiting for an app's rate limit before a call: imposed by the downstream's limit, not
    // by the engine; the overhead beyond it is what the engine itself added.
    const rateLimitWait: number[] = [];
    const engineOverheadBeyondLimits: number[] = [];
    const statuses: Record<string, number> = {};
    /** Why runs did not end OFFBOARDED and accounts were not revoked, by reason (numbers blanked so alike reasons count together). */
    const failureReasons: Record<string, number> = {};
    for (const email of emails) {
      const profile = await runtime.store.findSubject({ email });
      const run = profile?.lastRun ? await runtime.store.getRun(profile.subjectId, profile.lastRun) : undefined;
      statuses[run?.status ?? "MISSING"] = (statuses[run?.status ?? "MISSING"] ?? 0) + 1;
      if (run?.status !== "OFFBOARDED") {
        const reason = `run ${run?.status ?? "missing"}: ${(run?.summary ?? "").replace(/\d+/g, "N").slice(0, 200)}`;
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
      }
      const sent = sentAt.get(email)!;
      if (run?.completedAt) perOffboarding.push(Date.parse(run.completedAt) - sent);
      for (const r of run?.results ?? []) {
        if (r.state !== "REVOKED") {
          const reason = (r.detail ?? r.state).replace(/\d+/g, "N").slice(0, 200);
          failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
        }
        if (!r.verifiedAt) continue;
        const latency = Date.parse(r.verifiedAt) - sent;
        const calls = (r.evidence ?? []).reduce((n, e) => n + (typeof e.ms === "number" ? e.ms : 0), 0);
        const waited = (r.evidence ?? []).reduce((n, e) => n + (typeof e.waitedMs === "number" ? e.waitedMs : 0), 0);
        perAccount.push(latency);
        downstream.push(calls);
        engineOverhead.push(latency - calls);
        rateLimitWait.push(waited);
        engineOverheadBeyondLimits.push(latency - calls - waited);
      }
    }
    const downstreamStats = await fleet.stats();
    const scimAppsCpuMs = (downstreamStats.cpuMicros - scimCpuBefore) / 1000;
    const scimCalls = downstreamStats.requests - scimBefore;
    const callsPerApp = scimCalls / appCount;
    // The least wall time the apps' limits allow: every app can take R calls a minute, in parallel.
    const floorMs = rateLimit ? (callsPerApp / rateLimit) * 60_000 : null;
    const transitions = (runtime.sfn.transitions - transitionsBefore) / users;
    const invocations = (runtime.lambdas.invocations - invocationsBefore) / users;
    const dynamoByOperation = Object.fromEntries(
      Object.entries(dynamoAfter)
        .map(([op, n]) => [op, Number(((n - (dynamoBefore[op] ?? 0)) / users).toFixed(1))] as const)
        .filter(([, n]) => n > 0),
    );
    const dynamoCount = (ops: string[]) => Number(ops.reduce((n, op) => n + (dynamoByOperation[op] ?? 0), 0).toFixed(1));
    // Step Functions Standard: $0.025 per 1,000 state transitions. Lambda arm64: $0.20 per 1M requests
    // and $0.0000133334 per GB-second; assumed 256 MB and 150 ms per invocation. DynamoDB on demand and
    // EventBridge are left out of this figure (a few dozen requests per offboarding, well under a cent).
    const cost = {
      stepFunctions: (transitions * 1000 * 0.025) / 1000,
      lambda: invocations * 1000 * (0.2 / 1e6 + 0.25 * 0.15 * 0.0000133334),
    };
    const bundles = await bundleSizes();
    const summary = {
      users,
      apps: appCount,
      apiLatencyMs: latencyMs,
      rateLimitPerMinute: rateLimit ?? null,
      /** Departures sent per second; null: all at once. */
      arrivalRatePerSecond: arrivalRate ?? null,
      outcomes: statuses,
      failureReasons,
      wallMs,
      offboardingsPerSecond: Number(((users / wallMs) * 1000).toFixed(2)),
      accountsRevokedPerSecond: Number(((perAccount.length / wallMs) * 1000).toFixed(2)),
      departureToVerifiedMs: { perAccount: stats(perAccount), perOffboarding: stats(perOffboarding) },
      downstreamMs: { perAccount: stats(downstream) },
      engineOverheadMs: { perAccount: stats(engineOverhead), perAccountBeyondRateLimitWaits: stats(engineOverheadBeyondLimits) },
      rateLimitWaitMs: { perAccount: stats(rateLimitWait) },
      rateLimitFloorMs: floorMs === null ? null : Math.round(floorMs),
      wallToFloorRatio: floorMs ? Number((wallMs / floorMs).toFixed(3)) : null,
      scimCallsPerAccount: Number((scimCalls / (users * appCount)).toFixed(2)),
      stateTransitionsPerOffboarding: Number(transitions.toFixed(1)),
      lambdaInvocationsPerOffboarding: Number(invocations.toFixed(1)),
      dynamoDbPerOffboarding: {
        reads: dynamoCount(["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"]),
        writes: dynamoCount(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]),
        byOperation: dynamoByOperation,
      },
      estimatedAwsCostPer1000Offboardings: {
        usd: Number((cost.stepFunctions + cost.lambda).toFixed(4)),
        stepFunctionsUsd: Number(cost.stepFunctions.toFixed(4)),
        lambdaUsd: Number(cost.lambda.toFixed(4)),
        assumptions: "Step Functions Standard $0.025/1k transitions; Lambda arm64 $0.20/1M requests + $0.0000133334/GB-s at 256 MB x 150 ms; DynamoDB and EventBridge not included",
      },
      peakRssMb: Math.round(peakRss / 1024 / 1024),
      /**
       * CPU time over the measured window, per account revoked: the runtime's process (engine, handlers
       * and dynalite's thread) and the stand-in SCIM apps' process, which share this machine's cores.
       */
      cpuMsPerAccount: {
        runtime: Number(((cpu.user + cpu.system) / 1000 / Math.max(1, perAccount.length)).toFixed(2)),
        scimApps: Number((scimAppsCpuMs / Math.max(1, perAccount.length)).toFixed(2)),
      },
      /** How busy the runtime's main thread (engine and handlers; dynalite has its own) was: near 100, it is the bottleneck. */
      runtimeMainThreadBusyPercent: Math.round(mainThreadBusy * 100),
      /** The SCIM apps' own process, at the end (not part of the runtime). */
      scimAppsRssMb: Math.round(downstreamStats.rssBytes / 1024 / 1024),
      bundleBytes: bundles,
    };
    if (process.env.BENCH_DUMP_OPS) for (const [k, v] of Object.entries(dynamoByOperation).sort((a, b) => b[1] - a[1])) say(`  ${v}  ${k}`);
    say(`\n${users} offboardings × ${appCount} apps in ${wallMs} ms: ${JSON.stringify(statuses)}`);
    for (const [reason, n] of Object.entries(failureReasons)) say(`  ${n} × ${reason}`);
    say(`departure → verified per account: p50 ${summary.departureToVerifiedMs.perAccount.p50} ms, p95 ${summary.departureToVerifiedMs.perAccount.p95} ms, p99 ${summary.departureToVerifiedMs.perAccount.p99} ms`);
    say(`per offboarding: p50 ${summary.departureToVerifiedMs.perOffboarding.p50} ms, p99 ${summary.departureToVerifiedMs.perOffboarding.p99} ms; ${summary.offboardingsPerSecond} offboardings/s, ${summary.accountsRevokedPerSecond} accounts/s`);
    if (floorMs) say(`rate-limit floor ${Math.round(floorMs)} ms; wall / floor ${summary.wallToFloorRatio}`);
    say(`engine overhead per account (latency minus its SCIM calls' time): p50 ${summary.engineOverheadMs.perAccount.p50} ms, p99 ${summary.engineOverheadMs.perAccount.p99} ms; SCIM calls p50 ${summary.downstreamMs.perAccount.p50} ms`);
    if (summary.rateLimitWaitMs.perAccount.max > 0) say(`waits for the apps' rate limits per account: p50 ${summary.rateLimitWaitMs.perAccount.p50} ms, p99 ${summary.rateLimitWaitMs.perAccount.p99} ms; engine overhead beyond them p99 ${summary.engineOverheadMs.perAccountBeyondRateLimitWaits.p99} ms`);
    say(`per offboarding: ${summary.stateTransitionsPerOffboarding} state transitions, ${summary.lambdaInvocationsPerOffboarding} Lambda invocations, ${summary.scimCallsPerAccount} SCIM calls per account`);
    say(`DynamoDB per offboarding: ${summary.dynamoDbPerOffboarding.reads} reads, ${summary.dynamoDbPerOffboarding.writes} writes ${JSON.stringify(summary.dynamoDbPerOffboarding.byOperation)}`);
    say(`estimated AWS cost per 1,000 offboardings: $${summary.estimatedAwsCostPer1000Offboardings.usd} (${summary.estimatedAwsCostPer1000Offboardings.assumptions})`);
    say(`CPU per account: runtime ${summary.cpuMsPerAccount.runtime} ms, SCIM apps ${summary.cpuMsPerAccount.scimApps} ms; runtime main thread busy ${summary.runtimeMainThreadBusyPercent}%`);
    say(`peak RSS ${summary.peakRssMb} MB; largest bundle ${Math.max(...Object.values(bundles))} bytes`);
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    clearInterval(sampler);
    await runtime.stop();
    await fleet.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exit(1);
});
