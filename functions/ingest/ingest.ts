import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { Catalog } from "../lib/catalog";
import { ValidationError } from "../lib/errors";
import type { CanonicalEvent } from "../lib/events";
import { logger } from "../lib/observability";
import { normalizePayload } from "../normalize";

/** Okta batches up to ~50 events per delivery (a few KB each); anything far above that is not ours. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface IngestDeps {
  catalog: Catalog;
  publish: (events: CanonicalEvent[]) => Promise<string[]>;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/**
 * POST /events: validate, normalize, put on the bus, answer. Nothing is stored here and nothing
 * reaches the bus unless the whole payload normalized, so a 4xx never leaves half a delivery behind.
 */
export async function ingest(event: APIGatewayProxyEventV2, deps: IngestDeps): Promise<APIGatewayProxyStructuredResultV2> {
  if (event.requestContext?.http?.method && event.requestContext.http.method !== "POST") {
    return json(405, { error: "use POST" });
  }
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > MAX_BODY_BYTES) return json(413, { error: `body is larger than ${MAX_BODY_BYTES} bytes` });
  if (bytes.length === 0) return json(400, { error: "body is empty" });
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch {
    return json(400, { error: "body is not JSON" });
  }
  let normalized;
  try {
    normalized = normalizePayload(body, { catalog: deps.catalog });
  } catch (e) {
    if (e instanceof ValidationError) {
      logger.warn("payload rejected", { reason: e.message });
      return json(400, { error: e.message });
    }
    throw e;
  }
  const eventIds = normalized.events.length ? await deps.publish(normalized.events) : [];
  logger.info("payload accepted", {
    accepted: normalized.events.map((e) => ({ detailType: e.detailType, sourceEventId: e.detail.sourceEventId })),
    ignored: normalized.ignored.length,
  });
  return json(200, {
    accepted: normalized.events.length,
    eventIds,
    events: normalized.events.map((e) => ({ detailType: e.detailType, sourceEventId: e.detail.sourceEventId })),
    ignored: normalized.ignored,
  });
}
