import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { TABLE_KEYS } from "../functions/lib/store";

export interface LocalDynamo {
  endpoint: string;
  /** Requests served so far, by operation (GetItem, UpdateItem, …). */
  requestCounts: () => Promise<Record<string, number>>;
  close: () => Promise<void>;
}

type WorkerMessage = { type: "listening"; port: number } | { type: "error"; message: string } | { type: "counts"; counts: Record<string, number> } | { type: "closed" };

async function next<T extends WorkerMessage["type"]>(worker: Worker, type: T): Promise<Extract<WorkerMessage, { type: T }>> {
  for (;;) {
    const [message] = (await once(worker, "message")) as [WorkerMessage];
    if (message.type === "error") throw new Error(`dynalite: ${message.message}`);
    if (message.type === type) return message as Extract<WorkerMessage, { type: T }>;
  }
}

/**
 * dynalite on loopback, persisted under `dir` (state survives a restart), with the pipeline's table.
 * It runs on a worker thread: storage and its HTTP parsing then use the second core instead of
 * competing with the engine and the handlers for the first (a third of the CPU under load).
 */
export async function startDynamo(dir: string, tableName: string): Promise<LocalDynamo> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const worker = new Worker(new URL("./dynamo-worker.mjs", import.meta.url), { workerData: { path: dir } });
  const { port } = await next(worker, "listening");
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: TABLE_KEYS.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE_KEYS.sortKey, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: "RANGE" },
        ],
      }),
    );
  }
  // dynalite creates tables asynchronously, like DynamoDB: wait until the table is usable.
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName })).catch(() => undefined);
    if (d?.Table?.TableStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  client.destroy();
  return {
    endpoint,
    requestCounts: async () => {
      worker.postMessage({ type: "counts" });
      return (await next(worker, "counts")).counts;
    },
    close: async () => {
      worker.postMessage({ type: "close" });
      await next(worker, "closed");
      await worker.terminate();
    },
  };
}
