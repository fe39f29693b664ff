import type { AppEntry, ScimSettings } from "./catalog";
import { Permanent } from "./errors";
import { type Evidence, type HttpAnswer, request } from "./http";
import type { RateLimiter } from "./rate-limit";

export { parseRetryAfter } from "./http";
import { cachedToken } from "./idp";
import { resolveSecret } from "./secrets";

/** OAuth 2.0 client credentials (RFC 6749 §4.4) for apps whose SCIM API takes short-lived tokens. */
async function clientCredentialsToken(oauth: NonNullable<ScimSettings["oauth"]>, timeoutMs: number, fetchImpl: typeof fetch): Promise<string> {
  return cachedToken(`scim:${oauth.tokenUrl}:${oauth.clientId}`, async () => {
    const url = new URL(oauth.tokenUrl);
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: oauth.clientId, client_secret: await resolveSecret(oauth.clientSecretRef), ...(oauth.scope ? { scope: oauth.scope } : {}) });
    const res = await request({
      baseUrl: url.origin,
      method: "POST",
      path: `${url.pathname}${url.search}`,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      timeoutMs,
      fetchImpl,
      clock: () => new Date(),
      evidence: [],
    });
    const body = res.body as { access_token?: string; expires_in?: number | string };
    if (!body?.access_token) throw new Permanent("the SCIM app's token endpoint answered without an access_token");
    return { token: body.access_token, expiresInSeconds: Number(body.expires_in) || 3600 };
  });
}

export type ScimEvidence = Evidence;

export interface ScimUser {
  id: string;
  userName?: string;
  active?: boolean;
  /** For reconciliation, which matches accounts to people by userName, emails and externalId. */
  emails?: string[];
  externalId?: string;
  /** meta.created, when the app says when the account was made. */
  created?: string;
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
    const { rateLimitPerMinute, rateLimitBucket, oauth, tokenRef } = app.scim;
    const pace = limiter && rateLimitPerMinute ? () => limiter.acquire({ bucket: `scim:${rateLimitBucket ?? app.id}`, perMinute: rateLimitPerMinute }) : undefined;
    const token = oauth ? await clientCredentialsToken(oauth, app.scim.timeoutMs, fetchImpl) : await resolveSecret(tokenRef!);
    return new ScimClient(app.scim, token, fetchImpl, () => new Date(), pace);
  }

  /** Every account in the app, page by page (RFC 7644 §3.4.2.4), for reconciliation. */
  async *listUsers(pageSize = 100): AsyncGenerator<ScimUser> {
    let startIndex = 1;
    for (;;) {
      const res = await this.request("GET", `/Users?startIndex=${startIndex}&count=${pageSize}`);
      if (res.status === 404) throw new Permanent("GET /Users answered 404: the SCIM base URL looks wrong");
      const body = (res.body ?? {}) as { Resources?: unknown[]; totalResults?: unknown; itemsPerPage?: unknown };
      const page = body.Resources ?? [];
      for (const resource of page) yield asUser(resource);
      // totalResults may arrive as a string; a provider that under-reports still stops on an empty page.
      const total = Number(body.totalResults);
      startIndex += page.length;
      if (page.length === 0 || (Number.isFinite(total) && startIndex > total)) return;
    }
  }

  /** The groups (roles) the app says this user is a member of. */
  async groupsOf(userId: string): Promise<Array<{ id: string; displayName?: string }>> {
    const groups: Array<{ id: string; displayName?: string }> = [];
    const filter = encodeURIComponent(`members.value eq ${JSON.stringify(userId)}`);
    let startIndex = 1;
    for (;;) {
      const res = await this.request("GET", `/Groups?filter=${filter}&startIndex=${startIndex}&count=100`);
      if (res.status === 404) throw new Permanent("GET /Groups answered 404: this app does not serve SCIM Groups (set scim.groups to false)");
      const body = (res.body ?? {}) as { Resources?: Array<{ id?: unknown; displayName?: unknown }>; totalResults?: unknown };
      const page = body.Resources ?? [];
      for (const g of page) if (typeof g.id === "string") groups.push({ id: g.id, displayName: typeof g.displayName === "string" ? g.displayName : undefined });
      startIndex += page.length;
      if (page.length === 0 || startIndex > Number(body.totalResults ?? 0)) return groups;
    }
  }

  /**
   * Removes this one member from a group, by a filtered path. Never `{op: "remove", path: "members"}`,
   * which empties the group for everyone. A group already gone, or a member already removed (400
   * noTarget), is the state wanted.
   */
  async removeFromGroup(groupId: string, userId: string): Promise<void> {
    try {
      await this.request("PATCH", `/Groups/${encodeURIComponent(groupId)}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: "remove", path: `members[value eq ${JSON.stringify(userId)}]` }],
      });
    } catch (e) {
      if (e instanceof Permanent && /\(noTarget\)/.test(e.message)) return;
      throw e;
    }
  }

  private get replaceOp(): string {
    return this.settings.patchOpCasing === "capitalized" ? "Replace" : "replace";
  }

  get managesGroups(): boolean {
    return this.settings.groups;
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
        res = await this.request("PATCH", path, { schemas: [PATCH_OP], Operations: [{ op: this.replaceOp, value: { active: false } }] });
        break;
      case "patch":
        res = await this.request("PATCH", path, { schemas: [PATCH_OP], Operations: [{ op: this.replaceOp, path: "active", value: false }] });
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
  const emails = Array.isArray(b.emails) ? b.emails.map((e) => (e as { value?: unknown })?.value).filter((v): v is string => typeof v === "string" && v.length > 0) : [];
  const created = (b.meta as { created?: unknown } | undefined)?.created;
  return {
    id: b.id,
    userName: typeof b.userName === "string" ? b.userName : undefined,
    active,
    ...(emails.length ? { emails } : {}),
    ...(typeof b.externalId === "string" && b.externalId ? { externalId: b.externalId } : {}),
    ...(typeof created === "string" ? { created } : {}),
  };
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
