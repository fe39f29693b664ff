import { Permanent, Throttled, Transient } from "./errors";

/** One request as an auditor sees it: no headers, no token, no body. */
export interface Evidence extends Record<string, unknown> {
  at: string;
  method: string;
  path: string;
  status: number | "network-error" | "timeout";
  /** How long the vendor took to answer (or to fail), in milliseconds: the downstream's share of the latency. */
  ms?: number;
  /** How long the call waited for the downstream's rate limit before it was sent (absent when it did not wait). */
  waitedMs?: number;
  detail?: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The error text a vendor put in its error body: SCIM's `detail` (with `scimType`), Okta's
 * `errorSummary` (with `errorCode`), Graph's `error.message` (with `error.code`), OAuth's
 * `error_description`. `status` may be a string; it is not relied on.
 */
export function vendorErrorDetail(body: unknown): string | undefined {
  if (typeof body === "string") return body ? body.slice(0, 300) : undefined;
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  const nested = b.error && typeof b.error === "object" ? (b.error as Record<string, unknown>) : undefined;
  const text = [b.detail, b.errorSummary, nested?.message, b.error_description, b.message, b.error].find((v) => typeof v === "string" && v);
  const code = [b.scimType, b.errorCode, nested?.code].find((v) => typeof v === "string" && v);
  return typeof text === "string" ? `${text.slice(0, 300)}${code ? ` (${String(code)})` : ""}` : undefined;
}

export interface RequestOptions {
  baseUrl: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  fetchImpl: typeof fetch;
  clock: () => Date;
  evidence: Evidence[];
  /** How this vendor says when to come back after a 429 (seconds from now). */
  retryAfter?: (headers: Headers, now: number) => number | undefined;
  /** Waits for room under the downstream's rate limit before each call. */
  beforeRequest?: () => Promise<void>;
}

/** A 429 asking for at most this long is waited out here, once; longer waits go to the state machine's backoff. */
const SHORT_WAIT_SECONDS = 5;

/** Paths can hold personal data (filters, logins); messages that may reach logs keep only the shape. */
export function redactPath(path: string): string {
  return path.replace(/\?.*$/, "?…").replace(/[^/]+@[^/]+/g, "<login>");
}

/**
 * One HTTP call, classified the way the state machine retries: 429 → Throttled (with when to come
 * back), 5xx / 408 / 409 / timeout / reset → Transient, other 4xx → Permanent with the vendor's own
 * detail. 404 is returned to the caller: for revocation "already gone" is usually success.
 */
export async function request(o: RequestOptions): Promise<HttpAnswer> {
  try {
    return await requestOnce(o);
  } catch (e) {
    const wait = e instanceof Throttled ? e.retryAfterSeconds : undefined;
    if (wait === undefined || wait > SHORT_WAIT_SECONDS) throw e;
    await new Promise((r) => setTimeout(r, wait * 1000 + 50));
    return requestOnce(o);
  }
}

async function requestOnce(o: RequestOptions): Promise<HttpAnswer> {
  const asked = o.clock().getTime();
  await o.beforeRequest?.();
  const started = o.clock();
  const at = started.toISOString();
  const waited = started.getTime() - asked;
  const paced = waited > 0 ? { waitedMs: waited } : {};
  let response: Response;
  try {
    response = await o.fetchImpl(`${o.baseUrl}${o.path}`, { method: o.method, headers: o.headers, body: o.body, signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (e) {
    const timedOut = (e as Error).name === "TimeoutError" || (e as Error).name === "AbortError";
    o.evidence.push({ at, method: o.method, path: o.path, status: timedOut ? "timeout" : "network-error", ms: o.clock().getTime() - started.getTime(), ...paced });
    throw new Transient(`${o.method} ${redactPath(o.path)}: ${timedOut ? "timed out" : "connection failed"}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Error pages come as text/html; the text is kept for the evidence.
  }
  const detail = response.ok ? undefined : vendorErrorDetail(body);
  o.evidence.push({ at, method: o.method, path: o.path, status: response.status, ms: o.clock().getTime() - started.getTime(), ...paced, ...(detail ? { detail } : {}) });
  const where = `${o.method} ${redactPath(o.path)} → ${response.status}${detail ? `: ${detail}` : ""}`;
  if (response.status === 429) {
    const now = o.clock().getTime();
    throw new Throttled(where, o.retryAfter?.(response.headers, now) ?? parseRetryAfter(response.headers.get("retry-after"), now));
  }
  if (response.status >= 500 || response.status === 408 || response.status === 409) throw new Transient(where);
  if (response.status >= 400 && response.status !== 404) throw new Permanent(where);
  return { status: response.status, body, headers: response.headers };
}
