import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Store } from "../../functions/lib/store";
import { startDynamo, type LocalDynamo } from "../../local/dynamo";

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
