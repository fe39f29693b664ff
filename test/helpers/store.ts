import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Store } from "../../functions/lib/store";
import { startDynamo, type LocalDynamo } from "../../local/dynamo";
import type { ExecutionRegistry } from "../../local/stepfunctions";

/** A real DynamoDB API (dynalite) with the pipeline's table, in a fresh folder. */
export async function testStore(): Promise<{ store: Store; dynamo: LocalDynamo }> {
  const dynamo = await startDynamo(join(mkdtempSync(join(tmpdir(), "revoke-test-")), "db"), "revoke-test");
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  return { store: new Store(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), "revoke-test"), dynamo };
}

export const envelope = (detailType: string, detail: unknown) => ({
  version: "0",
  id: crypto.randomUUID(),
  "detail-type": detailType,
  source: "revoke.pipeline",
  account: "000000000000",
  time: "2026-12-03T00:00:00Z",
  region: "us-east-1",
  resources: [],
  detail,
});

/** The local engine's execution registry, in memory: for running ASL with stub functions and no table. */
export function memoryRegistry(): ExecutionRegistry {
  const items = new Map<string, Record<string, unknown>>();
  const key = (pk: unknown, sk: unknown) => `${String(pk)}|${String(sk)}`;
  return {
    putIfAbsent: async (item) => (items.has(key(item.pk, item.sk)) ? false : (items.set(key(item.pk, item.sk), item), true)),
    putItem: async (item) => void items.set(key(item.pk, item.sk), item),
    getItem: async (pk, sk) => items.get(key(pk, sk)),
    queryPrefix: async (pk, prefix) => [...items.values()].filter((i) => i.pk === pk && String(i.sk).startsWith(prefix)),
  };
}
