import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { TABLE_KEYS } from "../functions/lib/store";

export interface LocalDynamo {
  endpoint: string;
  /**
   * The SDK transport of the runtime's own process: requests go to dynalite's thread over a message
   * port, with no socket and no HTTP on either side (most of what a DynamoDB call cost the engine's
   * thread). Other processes (the CLI) use `endpoint`.
   */
  requestHandler: NonNullable<DynamoDBClientConfig["requestHandler"]>;
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
  const { port1: requests, port2: workerRequests } = new MessageChannel();
  const worker = new Worker(new URL("./dynamo-worker.mjs", import.meta.url), { workerData: { path: dir, requests: workerRequests }, transferList: [workerRequests] });
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
    requestHandler: portRequestHandler(requests),
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

const utf8 = new TextDecoder();
type PortAnswer = { id: number; statusCode: number; headers: Record<string, string>; body: string };
type SdkRequest = { method: string; path: string; headers: Record<string, string>; body?: unknown };

/** The SDK's HttpHandler shape, answered by dynalite's thread (see dynamo-worker.mjs). */
function portRequestHandler(port: MessagePort): NonNullable<DynamoDBClientConfig["requestHandler"]> {
  const waiting = new Map<number, (answer: PortAnswer) => void>();
  let next = 0;
  port.on("message", (answer: PortAnswer) => {
    waiting.get(answer.id)?.(answer);
    waiting.delete(answer.id);
  });
  // Idle, the port must not keep the process alive; while a request waits, the caller's promise does.
  port.unref();
  const handler = {
    handle: (request: SdkRequest) =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, (answer) => resolve({ response: { statusCode: answer.statusCode, headers: answer.headers, body: Buffer.from(answer.body) } }));
        // The SDK's JSON body is a Uint8Array that also acts as a string (and warns when used as one): read its bytes.
        const body = typeof request.body === "string" ? request.body : request.body instanceof Uint8Array ? utf8.decode(request.body) : "";
        port.postMessage({ id, method: request.method, path: request.path, headers: request.headers, body });
      }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
  return handler as unknown as NonNullable<DynamoDBClientConfig["requestHandler"]>;
}
