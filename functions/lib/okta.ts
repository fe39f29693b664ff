import type { OktaSettings } from "./catalog";
import { Permanent, Unverified } from "./errors";
import { type Evidence, type HttpAnswer, request } from "./http";
import { cachedToken, type IdpAction, type IdpClient, type IdpDisableResult, type IdpVerifyResult } from "./idp";
import { clientAssertion } from "./jwt";
import type { RateLimiter } from "./rate-limit";
import { resolveSecret } from "./secrets";

/** Okta answers 429 with X-Rate-Limit-Reset: the epoch second at which the bucket refills. */
function oktaRetryAfter(headers: Headers, now: number): number | undefined {
  const reset = Number(headers.get("x-rate-limit-reset"));
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, Math.ceil(reset - now / 1000)) : undefined;
}

/** The path of the `rel="next"` link, only when it points back at the same org. */
export function nextPage(link: string | null, orgUrl: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (!m) continue;
    const url = new URL(m[1]!);
    return url.origin === new URL(orgUrl).origin ? `${url.pathname}${url.search}` : undefined;
  }
  return undefined;
}

interface OktaUser {
  id: string;
  status: string;
  transitioningToStatus?: string;
}

/**
 * Okta Management API: deactivate (or suspend) the user, clear every session and the OAuth tokens
 * issued to them, revoke their app grants, and read the user back.
 */
export class OktaClient implements IdpClient {
  readonly evidence: Evidence[] = [];

  constructor(
    private readonly settings: OktaSettings,
    private readonly authorization: () => Promise<string>,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly clock: () => Date = () => new Date(),
    private readonly limiter?: RateLimiter,
  ) {}

  static fromSettings(settings: OktaSettings, fetchImpl: typeof fetch = fetch, limiter?: RateLimiter): OktaClient {
    let client: OktaClient;
    const authorization = async () => {
      const auth = settings.auth;
      if (auth.type === "api-token") return `SSWS ${await resolveSecret(auth.tokenRef)}`;
      const tokenUrl = `${settings.orgUrl}/oauth2/v1/token`;
      const token = await cachedToken(`okta:${auth.clientId}`, async () => {
        const assertion = clientAssertion({ clientId: auth.clientId, audience: tokenUrl, privateKeyPem: await resolveSecret(auth.privateKeyRef), header: auth.keyId ? { kid: auth.keyId } : {} });
        const form = new URLSearchParams({
          grant_type: "client_credentials",
          scope: auth.scopes.join(" "),
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: assertion,
        });
        const res = await client.call("POST", "/oauth2/v1/token", form.toString(), "application/x-www-form-urlencoded", "none");
        const body = res.body as { access_token?: string; expires_in?: number };
        if (!body?.access_token) throw new Permanent("Okta token endpoint answered without an access_token");
        return { token: body.access_token, expiresInSeconds: body.expires_in ?? 3600 };
      });
      return `Bearer ${token}`;
    };
    client = new OktaClient(settings, authorization, fetchImpl, () => new Date(), limiter);
    return client;
  }

  private async call(method: string, path: string, body?: string, contentType = "application/json", auth: "api" | "none" = "api"): Promise<HttpAnswer> {
    return request({
      baseUrl: this.settings.orgUrl,
      method,
      path,
      headers: { accept: "application/json", ...(body ? { "content-type": contentType } : {}), ...(auth === "api" ? { authorization: await this.authorization() } : {}) },
      body,
      timeoutMs: this.settings.timeoutMs,
      fetchImpl: this.fetchImpl,
      clock: this.clock,
      evidence: this.evidence,
      retryAfter: oktaRetryAfter,
      // The token endpoint has its own bucket; the Management API calls share this one.
      beforeRequest: auth === "api" && this.limiter ? () => this.limiter!.acquire({ bucket: `okta:${this.settings.orgUrl}`, perMinute: this.settings.rateLimitPerMinute }) : undefined,
    });
  }

  /** By id or by login (Okta accepts either in the path). */
  async getUser(ref: string): Promise<OktaUser | undefined> {
    const res = await this.call("GET", `/api/v1/users/${encodeURIComponent(ref)}`);
    if (res.status === 404) return undefined;
    const b = res.body as Partial<OktaUser>;
    if (typeof b?.id !== "string" || typeof b.status !== "string") throw new Permanent("Okta answered a user without id or status");
    return { id: b.id, status: b.status, transitioningToStatus: typeof b.transitioningToStatus === "string" ? b.transitioningToStatus : undefined };
  }

  /** Ids of the groups the user is in, following Okta's `Link: <…>; rel="next"` cursor pages. */
  async groupIdsOf(userId: string): Promise<string[]> {
    const ids: string[] = [];
    let path: string | undefined = `/api/v1/users/${encodeURIComponent(userId)}/groups?limit=200`;
    for (let page = 0; path && page < 100; page++) {
      const res = await this.call("GET", path);
      if (res.status === 404) throw new Permanent(`Okta has no user ${userId}`);
      if (!Array.isArray(res.body)) throw new Permanent("Okta answered a group list that is not an array");
      for (const g of res.body as Array<{ id?: unknown }>) if (typeof g?.id === "string") ids.push(g.id);
      path = nextPage(res.headers.get("link"), this.settings.orgUrl);
    }
    return ids;
  }

  /** Is the user assigned to this app instance (directly or through a group)? */
  async isAssigned(appInstanceId: string, userId: string): Promise<boolean> {
    const res = await this.call("GET", `/api/v1/apps/${encodeURIComponent(appInstanceId)}/users/${encodeURIComponent(userId)}`);
    return res.status !== 404;
  }

  async disable(userRef: string, action: IdpAction): Promise<IdpDisableResult> {
    const now = () => this.clock().toISOString();
    const user = await this.getUser(userRef);
    if (!user) return { userId: null, found: false, disabledAt: now(), sessionsRevokedAt: null, note: "no such Okta user (nothing to disable)" };
    const id = encodeURIComponent(user.id);
    let note: string;
    // Disable first so no new session can start, then clear the ones that exist.
    if (action === "deactivate") {
      if (user.status === "DEPROVISIONED") note = "already deactivated";
      else {
        // Deactivating a DEPROVISIONED user is not allowed, and a lifecycle call is not idempotent: checked above.
        try {
          await this.call("POST", `/api/v1/users/${id}/lifecycle/deactivate?sendEmail=false`);
          note = `deactivated (was ${user.status})`;
        } catch (e) {
          // Another run (a tripwire beside the offboarding) may have deactivated the user since the read
          // above; Okta then refuses with 400. The user's own state says whether the door is closed.
          if (!(e instanceof Permanent) || (await this.getUser(userRef))?.status !== "DEPROVISIONED") throw e;
          note = "already deactivated (by a concurrent run)";
        }
      }
    } else if (user.status === "ACTIVE") {
      await this.call("POST", `/api/v1/users/${id}/lifecycle/suspend`);
      note = "suspended";
    } else {
      note = `left as ${user.status} (suspend applies to ACTIVE users only)`;
    }
    const disabledAt = now();
    const sessions = await this.call("DELETE", `/api/v1/users/${id}/sessions?oauthTokens=true`);
    const sessionsRevokedAt = now();
    if (this.settings.revokeGrants) await this.call("DELETE", `/api/v1/users/${id}/grants`);
    return { userId: user.id, found: true, disabledAt, sessionsRevokedAt: sessions.status === 404 ? null : sessionsRevokedAt, note };
  }

  async verify(userRef: string, action: IdpAction): Promise<IdpVerifyResult> {
    const user = await this.getUser(userRef);
    const verifiedAt = this.clock().toISOString();
    if (!user) return { verifiedAt, readBack: "absent" };
    const closed = action === "deactivate" ? ["DEPROVISIONED"] : ["SUSPENDED", "DEPROVISIONED"];
    // Deactivation is asynchronous: while transitioning the read-back fails and the state machine retries.
    if (!closed.includes(user.status)) throw new Unverified(`Okta user is ${user.status}${user.transitioningToStatus ? ` → ${user.transitioningToStatus}` : ""}`);
    return { verifiedAt, readBack: user.status };
  }
}
