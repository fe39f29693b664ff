import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { type Catalog, loadCatalogFile } from "../functions/lib/catalog";
import { Store } from "../functions/lib/store";

/** Where the CLI acts: the local runtime (default) or a deployed stack (`--aws`). Same SDK calls for both. */
export interface Target {
  kind: "local" | "aws";
  store: Store;
  eventBridge: EventBridgeClient;
  sfn: SFNClient;
  busName: string;
  stateMachineArn: string;
  /** The reconcile state machine (REVOKE_RECONCILE_STATE_MACHINE_ARN on AWS). */
  reconcileStateMachineArn?: string;
  /** The catalog the pipeline runs with: the local runtime's own, or REVOKE_CATALOG_FILE for --aws (the file deployed). */
  catalogFile?: string;
}

/** The target's catalog; commands that apply the brake or name apps need it. */
export function catalogOf(target: Target): Catalog {
  if (!target.catalogFile) throw new CliError("this command needs the app catalog: set REVOKE_CATALOG_FILE to the file the stack was deployed with", 2);
  return loadCatalogFile(target.catalogFile);
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export async function resolveTarget(opts: { aws?: boolean; dataDir?: string }): Promise<Target> {
  if (opts.aws) {
    const need = (name: string) => {
      const v = process.env[name];
      if (!v) throw new CliError(`--aws needs ${name} (from the stack outputs)`, 2);
      return v;
    };
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    return {
      kind: "aws",
      store: new Store(doc, need("REVOKE_TABLE_NAME")),
      eventBridge: new EventBridgeClient({}),
      sfn: new SFNClient({}),
      busName: need("REVOKE_EVENT_BUS_NAME"),
      stateMachineArn: need("REVOKE_STATE_MACHINE_ARN"),
      reconcileStateMachineArn: process.env.REVOKE_RECONCILE_STATE_MACHINE_ARN,
      catalogFile: process.env.REVOKE_CATALOG_FILE,
    };
  }
  const dataDir = opts.dataDir ?? process.env.REVOKE_DATA_DIR ?? ".data";
  const infoFile = join(dataDir, "runtime.json");
  if (!existsSync(infoFile)) throw new CliError(`no local runtime found in ${dataDir} (start one with \`npm start\`, or pass --aws)`);
  type RuntimeInfo = { url: string; dynamoEndpoint: string; table: string; stateMachineArn: string; reconcileStateMachineArn?: string; catalogFile?: string };
  let info: RuntimeInfo;
  try {
    info = JSON.parse(readFileSync(infoFile, "utf8")) as RuntimeInfo;
  } catch {
    throw new CliError(`${infoFile} is not readable as the local runtime's address file (restart the runtime with \`npm start\` to write it again)`);
  }
  try {
    const res = await fetch(`${info.url}/health`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error();
  } catch {
    throw new CliError(`the local runtime at ${info.url} is not answering (start it with \`npm start\`)`);
  }
  const local = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } };
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ ...local, endpoint: info.dynamoEndpoint }), { marshallOptions: { removeUndefinedValues: true } });
  return {
    kind: "local",
    store: new Store(doc, info.table),
    eventBridge: new EventBridgeClient({ ...local, endpoint: info.url }),
    sfn: new SFNClient({ ...local, endpoint: info.url }),
    busName: "revoke-local",
    stateMachineArn: info.stateMachineArn,
    reconcileStateMachineArn: info.reconcileStateMachineArn,
    catalogFile: info.catalogFile ?? process.env.REVOKE_CATALOG_FILE,
  };
}
