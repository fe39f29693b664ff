import type { AppEntry, ScimSettings } from "./catalog";
import { Permanent, Throttled, Transient } from "./errors";
import { resolveSecret } from "./secrets";

/** One request as an auditor sees it: no headers, no token, no body. */
export interface ScimEvidence extends Record<string, unknown> {
  at: string;
  method: string;
  path: string;
  status: number | "network-error" | "timeout";
  detail?: string;
}

export interface ScimUser {
  id: string;
  userName?: string;
  active?: boolean;
}

const SCIM_JSON = "application/scim+json";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Providers put the error text in `detail`, sometimes elsewhere, and `status` may be a string. */
function errorDetail(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return typeof body === "string" && body ? body.slice(0, 300) : undefined;
  const b = body as Record<string, unknown>;
  const text = [b.detail, b.message, b.error_description, b.error].find((v) => typeof v === "string" && v);
  const scimType = typeof b.scimType === "string" ? ` (${b.scimType})` : "";
  return typeof text === "string" ? `${text.slice(0, 300)}${scimType}` : undefined;
}

/**
 * A SCIM 2.0 client for one app that classifies every answer the way the state machine retries:
 * 429 → Throttled (with Retry-After), 5xx / 409 / timeout / reset → Transient, other 4xx → Permanent.
 * 404 is returned to the caller, because for revocation "already gone" is success.
 */
export class ScimClient {
  readonly evidence: ScimEvidence[] = [];

  constructor(
    private readonly settings: ScimSettings,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  static async forApp(app: AppEntry, fetchImpl: typeof fetch = fetch): Promise<ScimClient> {
    if (!app.scim) throw new Permanent(`app ${app.id} has no SCIM settings`);
    return new ScimClient(app.scim, await resolveSecret(app.scim.tokenRef), fetchImpl);
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const at = this.clock().toISOString();
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.settings.baseUrl}${path}`, {
        method,
        headers: {
          accept: `${SCIM_JSON}, application/json`,
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": SCIM_JSON }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as Error).name === "TimeoutError" || (e as Error).name === "AbortError";
      this.evidence.push({ at, method, path, status: timedOut ? "timeout" : "network-error" });
      throw new Transient(`${method} ${redactPath(path)}: ${timedOut ? "timed out" : "connection failed"}`);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Some providers answer errors as text/html; keep the text for the evidence.
    }
    const detail = response.ok ? undefined : errorDetail(parsed);
    this.evidence.push({ at, method, path, status: response.status, ...(detail ? { detail } : {}) });
    const where = `${method} ${redactPath(path)} → ${response.status}${detail ? `: ${detail}` : ""}`;
    if (response.status === 429) throw new Throttled(where, parseRetryAfter(response.headers.get("retry-after")));
    if (response.status >= 500 || response.status === 409 || response.status === 408) throw new Transient(where);
    if (response.status >= 400 && response.status !== 404) throw new Permanent(where);
    return { status: response.status, body: parsed };
  }

  async getUser(id: string): Promise<ScimUser | undefined> {
    const res = await this.request("GET", `/Users/${encodeURIComponent(id)}`);
    return res.status === 404 ? undefined : asUser(res.body);
  }

  /**
   * Finds a user by each attribute and candidate value in turn. Candidates carry the original casing
   * first: RFC 7643 makes userName case-insensitive, but real providers (scimmy among them) compare
   * exactly, so the name as the IdP sent it is tried before the lower-cased email.
   */
  async findUser(candidates: string[]): Promise<ScimUser | undefined> {
    const values = [...new Set(candidates.filter(Boolean))];
    for (const attribute of this.settings.matchBy) {
      for (const value of values) {
        const filter = `${attribute} eq ${JSON.stringify(value)}`;
        const res = await this.request("GET", `/Users?filter=${encodeURIComponent(filter)}&startIndex=1&count=2`);
        if (res.status === 404) continue;
        const resources = (res.body as { Resources?: unknown[] } | undefined)?.Resources ?? [];
        if (resources.length > 1) throw new Permanent(`${attribute} eq <value> matches ${resources.length} accounts; refusing to guess`);
        if (resources.length === 1) return asUser(resources[0]);
      }
    }
    return undefined;
  }

  /** Returns false when the account was already gone (404), which is success for revocation. */
  async deactivate(id: string): Promise<boolean> {
    const path = `/Users/${encodeURIComponent(id)}`;
    let res: { status: number };
    switch (this.settings.deactivate) {
      case "delete":
        res = await this.request("DELETE", path);
        break;
      case "patch-value":
        res = await this.request("PATCH", path, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] });
        break;
      case "patch":
        res = await this.request("PATCH", path, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] });
        break;
    }
    return res.status !== 404;
  }
}

function asUser(body: unknown): ScimUser {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.id !== "string" || !b.id) throw new Permanent("SCIM answered a user without an id");
  // `active` as the string "false"/"False" is a known provider quirk; anything else unknown stays unknown.
  const active = typeof b.active === "boolean" ? b.active : typeof b.active === "string" ? b.active.toLowerCase() === "true" : undefined;
  return { id: b.id, userName: typeof b.userName === "string" ? b.userName : undefined, active };
}

/** Filters hold personal data; messages that may reach logs keep only the path. */
function redactPath(path: string): string {
  return path.replace(/\?.*$/, "?…");
}
