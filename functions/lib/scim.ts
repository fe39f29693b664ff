import type { AppEntry, ScimSettings } from "./catalog";
import { Permanent } from "./errors";
import { type Evidence, type HttpAnswer, request } from "./http";
import type { RateLimiter } from "./rate-limit";

export { parseRetryAfter } from "./http";
import { resolveSecret } from "./secrets";

export type ScimEvidence = Evidence;

export interface ScimUser {
  id: string;
  userName?: string;
  active?: boolean;
}

const SCIM_JSON = "application/scim+json";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

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
    private readonly beforeRequest?: () => Promise<void>,
  ) {}

  static async forApp(app: AppEntry, fetchImpl: typeof fetch = fetch, limiter?: RateLimiter): Promise<ScimClient> {
    if (!app.scim) throw new Permanent(`app ${app.id} has no SCIM settings`);
    const { rateLimitPerMinute, rateLimitBucket } = app.scim;
    const pace = limiter && rateLimitPerMinute ? () => limiter.acquire({ bucket: `scim:${rateLimitBucket ?? app.id}`, perMinute: rateLimitPerMinute }) : undefined;
    return new ScimClient(app.scim, await resolveSecret(app.scim.tokenRef), fetchImpl, () => new Date(), pace);
  }

  private request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return request({
      baseUrl: this.settings.baseUrl,
      method,
      path,
      headers: {
        accept: `${SCIM_JSON}, application/json`,
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": SCIM_JSON }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: this.settings.timeoutMs,
      fetchImpl: this.fetchImpl,
      clock: this.clock,
      evidence: this.evidence,
      beforeRequest: this.beforeRequest,
    });
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
        // The list endpoint itself missing is a wrong base URL or a proxy, never "no such user".
        if (res.status === 404) throw new Permanent(`GET /Users answered 404: the SCIM base URL looks wrong`);
        const resources = (res.body as { Resources?: unknown[] } | undefined)?.Resources ?? [];
        if (resources.length > 1) throw new Permanent(`${attribute} eq <value> matches ${resources.length} accounts; refusing to guess`);
        if (resources.length === 1) {
          const user = resources[0];
          // A provider that ignores the filter would hand back someone else: check before acting.
          if (!matches(user, attribute, value)) throw new Permanent(`the provider answered ${attribute} eq <value> with an account that does not match it`);
          return asUser(user);
        }
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
  // `active` as the string "false"/"False" is a known provider quirk; anything else stays unknown,
  // and unknown is never read as inactive.
  const text = typeof b.active === "string" ? b.active.trim().toLowerCase() : undefined;
  const active = typeof b.active === "boolean" ? b.active : text === "true" ? true : text === "false" ? false : undefined;
  return { id: b.id, userName: typeof b.userName === "string" ? b.userName : undefined, active };
}

/** Does a returned resource carry the value the filter asked for (case-insensitively, as RFC 7643 has it)? */
function matches(resource: unknown, attribute: string, value: string): boolean {
  const r = (resource ?? {}) as Record<string, unknown>;
  const wanted = value.toLowerCase();
  if (attribute === "emails.value") {
    return Array.isArray(r.emails) && r.emails.some((e) => typeof (e as { value?: unknown })?.value === "string" && (e as { value: string }).value.toLowerCase() === wanted);
  }
  const actual = r[attribute];
  return typeof actual === "string" && actual.toLowerCase() === wanted;
}
