import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import qs from "qs";
import { type IngestDeps, acceptPayload, json, parseJson, rawBody } from "../ingest/ingest";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logger, metrics } from "../lib/observability";
import { constantTimeEqual, hmacHex, timestampProblem } from "../lib/webhook-auth";

export interface SignedHookSettings {
  secret: string;
  toleranceSeconds: number;
}

export interface HrHookDeps extends IngestDeps {
  /** Settings of the hook at this path, or undefined when it is not configured. */
  settingsFor: (hook: "hr" | "bamboohr") => Promise<SignedHookSettings | undefined>;
  now?: () => number;
}

/** Our generic HR webhook signs `timestamp + "." + body`; BambooHR signs `body + timestamp`. */
const SCHEMES = {
  hr: {
    timestampHeader: "x-revoke-timestamp",
    signatureHeader: "x-revoke-signature",
    signed: (body: Buffer, ts: string) => Buffer.concat([Buffer.from(`${ts}.`), body]),
    presented: (header: string) => header.replace(/^v1=/, ""),
    source: "hr" as const,
  },
  bamboohr: {
    timestampHeader: "x-bamboohr-timestamp",
    signatureHeader: "x-bamboohr-signature",
    signed: (body: Buffer, ts: string) => Buffer.concat([body, Buffer.from(ts)]),
    presented: (header: string) => header.replace(/^sha256=/, ""),
    source: "bamboohr" as const,
  },
};

/**
 * HR webhooks: POST /hooks/hr (our generic termination and cancellation events) and POST
 * /hooks/bamboohr (BambooHR, JSON or form-encoded). Authenticated by HMAC-SHA256 over the raw body
 * and a timestamp inside a window, compared in constant time, before anything is parsed.
 */
export async function hrHook(event: APIGatewayProxyEventV2, deps: HrHookDeps): Promise<APIGatewayProxyStructuredResultV2> {
  metrics.addMetric("IngressRequests", MetricUnit.Count, 1);
  const hook = event.rawPath?.endsWith("/bamboohr") ? "bamboohr" : "hr";
  const settings = await deps.settingsFor(hook);
  if (!settings) return json(404, { error: `the ${hook} webhook is not configured` });
  if ((event.requestContext?.http?.method ?? "POST") !== "POST") return json(405, { error: "use POST" });
  const raw = rawBody(event);
  if ("response" in raw) return raw.response;
  const scheme = SCHEMES[hook];
  const timestamp = event.headers?.[scheme.timestampHeader];
  const stale = timestampProblem(timestamp, settings.toleranceSeconds, deps.now?.());
  const signature = event.headers?.[scheme.signatureHeader];
  const expected = hmacHex(settings.secret, scheme.signed(raw.bytes, timestamp ?? ""));
  if (stale || !signature || !constantTimeEqual(scheme.presented(signature.trim()).toLowerCase(), expected)) {
    metrics.addMetric("AuthenticationFailures", MetricUnit.Count, 1);
    logger.warn(`${hook} hook: authentication failed`, { reason: stale ?? (signature ? "signature mismatch" : "signature header missing") });
    return json(401, { error: stale ?? "signature does not verify" });
  }
  let body: unknown;
  // Our own events are JSON whatever the Content-Type says (`curl --data` labels everything a form); so
  // is any body that starts like JSON. BambooHR's form format never does.
  const looksLikeJson = /^\s*[{[]/.test(raw.bytes.subarray(0, 64).toString("utf8"));
  if (hook === "bamboohr" && !looksLikeJson && /^\s*application\/x-www-form-urlencoded\s*(;|$)/i.test(event.headers?.["content-type"] ?? "")) {
    // BambooHR's form format: employees[0][fields][Status]=Terminated&… A delivery past the limits is
    // refused whole, never cut short (a termination at its end would be lost).
    try {
      body = qs.parse(raw.bytes.toString("utf8"), { depth: 5, arrayLimit: 1000, parameterLimit: 100_000, throwOnLimitExceeded: true, allowPrototypes: false });
    } catch (e) {
      return json(400, { error: `form body: ${(e as Error).message}` });
    }
  } else {
    const parsed = parseJson(raw.bytes);
    if ("response" in parsed) return parsed.response;
    body = parsed.body;
  }
  return acceptPayload(body, deps, scheme.source);
}
