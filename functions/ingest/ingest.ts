import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { Catalog } from "../lib/catalog";
import { ValidationError } from "../lib/errors";
import type { CanonicalEvent } from "../lib/events";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logger, metrics } from "../lib/observability";
import { normalizePayload, type PayloadSource } from "../normalize";

/** Okta batches up to ~50 events per delivery (a few KB each); anything far above that is not ours. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface IngestDeps {
  catalog: Catalog;
  publish: (events: CanonicalEvent[]) => Promise<string[]>;
}

export const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** The raw body as bytes, or the 4xx answer for a body that cannot be one. */
export function rawBody(event: APIGatewayProxyEventV2): { bytes: Buffer } | { response: APIGatewayProxyStructuredResultV2 } {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > MAX_BODY_BYTES) return { response: json(413, { error: `body is larger than ${MAX_BODY_BYTES} bytes` }) };
  if (bytes.length === 0) return { response: json(400, { error: "body is empty" }) };
  return { bytes };
}

export function parseJson(bytes: Buffer): { body: unknown } | { response: APIGatewayProxyStructuredResultV2 } {
  try {
    return { body: JSON.parse(bytes.toString("utf8")) };
  } catch {
    return { response: json(400, { error: "body is not JSON" }) };
  }
}

/**
 * Normalize, put on the bus, answer. Nothing reaches the bus unless the whole payload normalized, so
 * a 4xx never leaves half a delivery behind. Publishing is at-least-once: on a 5xx the sender retries,
 * and everything downstream is idempotent on the events' source ids.
 */
export async function acceptPayload(body: unknown, deps: IngestDeps, source?: PayloadSource): Promise<APIGatewayProxyStructuredResultV2> {
  let normalized;
  try {
    normalized = normalizePayload(body, { catalog: deps.catalog }, source);
  } catch (e) {
    if (e instanceof ValidationError) {
      metrics.addMetric("RejectedPayloads", MetricUnit.Count, 1);
      logger.warn("payload rejected", { reason: e.message });
      return json(400, { error: e.message });
    }
    throw e;
  }
  const eventIds = normalized.events.length ? await deps.publish(normalized.events) : [];
  metrics.addMetric("AcceptedEvents", MetricUnit.Count, normalized.events.length);
  // Well-formed events of types the pipeline does not act on: answered 200, counted here.
  metrics.addMetric("IgnoredEvents", MetricUnit.Count, normalized.ignored.length);
  if (normalized.ignored.length) logger.info("ignored well-formed events", { ignoredCount: normalized.ignored.length, types: [...new Set(normalized.ignored.map((i) => i.eventType ?? "?"))] });
  logger.info("payload accepted", { accepted: normalized.events.map((e) => ({ detailType: e.detailType, sourceEventId: e.detail.sourceEventId })) });
  return json(200, {
    accepted: normalized.events.length,
    eventIds,
    events: normalized.events.map((e) => ({ detailType: e.detailType, sourceEventId: e.detail.sourceEventId, ...(e.detail.effectiveAt ? { effectiveAt: e.detail.effectiveAt } : {}) })),
    ignored: normalized.ignored,
  });
}

/** POST /events: any supported payload, detected from its shape (IAM-authorized on AWS, loopback locally). */
export async function ingest(event: APIGatewayProxyEventV2, deps: IngestDeps): Promise<APIGatewayProxyStructuredResultV2> {
  metrics.addMetric("IngressRequests", MetricUnit.Count, 1);
  if (event.requestContext?.http?.method && event.requestContext.http.method !== "POST") return json(405, { error: "use POST" });
  const raw = rawBody(event);
  if ("response" in raw) return raw.response;
  const parsed = parseJson(raw.bytes);
  if ("response" in parsed) return parsed.response;
  return acceptPayload(parsed.body, deps);
}
