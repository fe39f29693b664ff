import "./log-level";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { type Catalog, loadCatalogFile } from "../functions/lib/catalog";
import { BUS_RULES, SCHEDULED_WORK, OFFBOARD_SUBSTITUTIONS, RECONCILE_SUBSTITUTIONS } from "../functions/lib/rules";
import { documentClient, Store, useLocalDynamoTransport } from "../functions/lib/store";
import { LocalBus } from "./bus";
import { startDynamo } from "./dynamo";
import { LocalLambdas } from "./lambda";
import { createLocalServer } from "./server";
import { LocalStepFunctions, localStateMachineArn } from "./stepfunctions";

export const LOCAL_TABLE = "revoke-local";
export const LOCAL_BUS = "revoke-local";
export const OFFBOARD_MACHINE = "offboard";
export const RECONCILE_MACHINE = "reconcile";
const PROJECT_ROOT = resolve(import.meta.dirname, "..");

export interface RuntimeOptions {
  dataDir: string;
  catalogFile: string;
  port?: number;
  host?: string;
  /** Milliseconds between ASL retries instead of the definition's intervals (tests). */
  retryIntervalMs?: number;
  /** How often scheduled work runs (default: as deployed, every few minutes). */
  schedulerIntervalMs?: number;
  /** Handlers running at once, like Lambda's concurrency limit (default 128; REVOKE_LOCAL_CONCURRENCY). */
  maxConcurrentInvocations?: number;
  log?: (line: string) => void;
}

export interface Runtime {
  url: string;
  dynamoEndpoint: string;
  /** DynamoDB requests served so far, by operation (the benchmark counts them per offboarding). */
  dynamoRequestCounts: () => Promise<Record<string, number>>;
  store: Store;
  bus: LocalBus;
  sfn: LocalStepFunctions;
  lambdas: LocalLambdas;
  stateMachineArn: string;
  /** The catalog it runs with, as validated at start-up. */
  catalog: Catalog;
  /** Runs the scheduled work now, as the timer would. */
  runScheduledWork: () => Promise<void>;
  /** Waits until the bus has delivered everything and no execution is running. */
  idle: () => Promise<void>;
  stop: () => Promise<void>;
}

/** A scheduled job's result that says it acted: not all zeros and empty lists, not skipped, not "nothing due". */
function didSomething(result: unknown): boolean {
  if (result === undefined || result === null || result === 0 || result === false || result === "") return false;
  if (Array.isArray(result)) return result.length > 0;
  if (typeof result === "object") {
    const fields = result as Record<string, unknown>;
    // A sweep that found no departures (however many it checked), a skipped job, a subscription still current.
    if (fields.skipped !== undefined || fields.departures === 0 || fields.action === "current" || fields.action === "skipped") return false;
    return Object.values(fields).some(didSomething);
  }
  return true;
}

/** Where a running runtime tells the CLI how to reach it. */
export const runtimeInfoFile = (dataDir: string) => join(dataDir, "runtime.json");

/**
 * The embedded default: DynamoDB (dynalite, persisted), the bus with the deployed rules, the ASL run
 * locally, the same handlers in-process, and HTTP on loopback. One runtime per process: the handlers
 * read their configuration from the environment, as they do in Lambda.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? (() => undefined);
  const catalogFile = resolve(options.catalogFile);
  const catalog = loadCatalogFile(catalogFile); // a bad catalog stops start-up here, naming the entry and the field
  const dataDir = resolve(options.dataDir);
  // The ledger names people and the notifications file holds signed task links: this user's only.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  refuseIfInUse(dataDir);
  const dynamo = await startDynamo(join(dataDir, "dynamodb"), LOCAL_TABLE);

  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  useLocalDynamoTransport(dynamo.requestHandler);
  const store = new Store(documentClient(), LOCAL_TABLE);
  const lambdas = new LocalLambdas(options.maxConcurrentInvocations ?? (Number(process.env.REVOKE_LOCAL_CONCURRENCY) || 128));
  const bus = new LocalBus(BUS_RULES, lambdas, store, log);
  const sfn = new LocalStepFunctions(store, lambdas, { retryIntervalMs: options.retryIntervalMs, log });
  sfn.register(OFFBOARD_MACHINE, join(PROJECT_ROOT, "statemachines/offboard.asl.json"), OFFBOARD_SUBSTITUTIONS);
  sfn.register(RECONCILE_MACHINE, join(PROJECT_ROOT, "statemachines/reconcile.asl.json"), RECONCILE_SUBSTITUTIONS);

  const server = createLocalServer({ lambdas, bus, sfn, host: options.host });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => ok());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;

  // Handlers load lazily on first use and read this, as they read their environment in Lambda.
  Object.assign(process.env, {
    TABLE_NAME: LOCAL_TABLE,
    EVENT_BUS_NAME: LOCAL_BUS,
    EVENTBRIDGE_ENDPOINT: url,
    SFN_ENDPOINT: url,
    STATE_MACHINE_ARN: localStateMachineArn(OFFBOARD_MACHINE),
    RECONCILE_STATE_MACHINE_ARN: localStateMachineArn(RECONCILE_MACHINE),
    APP_CATALOG_FILE: catalogFile,
    NOTIFY_FILE: process.env.NOTIFY_FILE ?? join(dataDir, "notifications.log"),
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    POWERTOOLS_SERVICE_NAME: "revoke-local",
  });
  delete process.env.AWS_SESSION_TOKEN;

  writeFileSync(runtimeInfoFile(dataDir), JSON.stringify({ url, dynamoEndpoint: dynamo.endpoint, table: LOCAL_TABLE, stateMachineArn: localStateMachineArn(OFFBOARD_MACHINE), reconcileStateMachineArn: localStateMachineArn(RECONCILE_MACHINE), catalogFile, pid: process.pid }, null, 2));
  const redriven = await sfn.redrive();
  if (redriven.length) log(`re-driving ${redriven.length} unfinished execution(s): ${redriven.join(", ")}`);

  // The local stand-in for EventBridge Scheduler: the same functions, inputs and periods as deployed,
  // and each once at start-up so that what fell due while the runtime was stopped happens now.
  const runOne = async (work: (typeof SCHEDULED_WORK)[number]) => {
    try {
      const result = await lambdas.invoke(work.target, work.input);
      // Said only when the work did something: a sweep that found nothing is not news.
      if (didSomething(result)) log(`${work.name}: ${JSON.stringify(result)}`);
    } catch (e) {
      log(`${work.name} failed, will run again: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  // Work marked atStartup: false (reconciliation) runs on its timer only, not at start-up or here.
  const runScheduledWork = async () => {
    for (const work of SCHEDULED_WORK) if (work.atStartup !== false) await runOne(work);
  };
  await runScheduledWork();
  const timers = SCHEDULED_WORK.map((work) => setInterval(() => void runOne(work), options.schedulerIntervalMs ?? work.everyMinutes * 60_000));
  for (const t of timers) t.unref();

  return {
    url,
    dynamoEndpoint: dynamo.endpoint,
    dynamoRequestCounts: dynamo.requestCounts,
    store,
    bus,
    sfn,
    lambdas,
    stateMachineArn: localStateMachineArn(OFFBOARD_MACHINE),
    catalog,
    idle: async () => {
      // Deliveries start executions and executions put events: wait until both are quiet at once.
      while (bus.busy || sfn.busy) {
        await bus.idle();
        await sfn.idle();
      }
    },
    runScheduledWork,
    stop: async () => {
      for (const t of timers) clearInterval(t);
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await dynamo.close();
      // The CLI then says plainly that no runtime is there, instead of trying a dead address.
      rmSync(runtimeInfoFile(dataDir), { force: true });
    },
  };
}

/** LevelDB allows one process per folder; say so plainly instead of failing inside dynalite. */
function refuseIfInUse(dataDir: string) {
  const file = runtimeInfoFile(dataDir);
  if (!existsSync(file)) return;
  let pid: number | undefined;
  try {
    pid = (JSON.parse(readFileSync(file, "utf8")) as { pid?: number }).pid;
  } catch {
    return;
  }
  if (!pid || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // not running: a stale file from a runtime that was stopped or killed
  }
  throw new Error(`data folder ${dataDir} is in use by another local runtime (pid ${pid}); stop it or pass --data-dir`);
}
