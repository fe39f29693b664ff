import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type IngestDeps, acceptPayload, json, parseJson, rawBody } from "../ingest/ingest";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logger, metrics } from "../lib/observability";
import { constantTimeEqual } from "../lib/webhook-auth";

export interface OktaHookDeps extends IngestDeps {
  /** The Authorization header value configured on the Okta Event Hook, or undefined when not configured. */
  secret: () => Promise<string | undefined>;
}

/**
 * Okta Event Hook endpoint. The one-time verification GET echoes `x-okta-verification-challenge` as
 * `{"verification": …}`; deliveries are POSTs carrying the configured secret in Authorization. Okta
 * waits 3 s and retries once, so this only validates, normalizes and puts on the bus.
 */
export async function oktaHook(event: APIGatewayProxyEventV2, deps: OktaHookDeps): Promise<APIGatewayProxyStructuredResultV2> {
  metrics.addMetric("IngressRequests", MetricUnit.Count, 1);
  const secret = await deps.secret();
  if (!secret) return json(404, { error: "the Okta event hook is not configured" });
  const presented = event.headers?.authorization ?? "";
  if (!presented || !constantTimeEqual(presented, secret)) {
    metrics.addMetric("AuthenticationFailures", MetricUnit.Count, 1);
    logger.warn("okta hook: authentication failed", { hasAuthorization: Boolean(presented) });
    return json(401, { error: "authentication failed" });
  }
  const method = event.requestContext?.http?.method ?? "POST";
  if (method === "GET") {
    const challenge = event.headers?.["x-okta-verification-challenge"];
    if (!challenge) return json(400, { error: "x-okta-verification-challenge header is missing" });
    return json(200, { verification: challenge });
  }
  if (method !== "POST") return json(405, { error: "use GET (verification) or POST (deliveries)" });
  const raw = rawBody(event);
  if ("response" in raw) return raw.response;
  const parsed = parseJson(raw.bytes);
  if ("response" in parsed) return parsed.response;
  return acceptPayload(parsed.body, deps, "okta-hook");
}
