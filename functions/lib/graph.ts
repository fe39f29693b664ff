import type { EntraSettings } from "./catalog";
import { Permanent, Unverified } from "./errors";
import { type Evidence, type HttpAnswer, request } from "./http";
import { cachedToken, type IdpClient, type IdpDisableResult, type IdpVerifyResult } from "./idp";
import { clientAssertion } from "./jwt";
import type { RateLimiter } from "./rate-limit";
import { resolveSecret } from "./secrets";

/**
 * Microsoft Graph for Entra ID: `PATCH /users/{id}` with accountEnabled false, then
 * `POST /users/{id}/revokeSignInSessions` (refresh tokens and session cookies), then read
 * accountEnabled back. A user already deleted (404) is a success for the disable, noted as such.
 * Entra has no suspended state: a suspension disables the account, which is reversible.
 */
export class GraphClient implements IdpClient {
  readonly evidence: Evidence[] = [];
  private readonly tokenUrl: string;

  constructor(
    private readonly settings: EntraSettings,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly clock: () => Date = () => new Date(),
    private readonly limiter?: RateLimiter,
  ) {
    this.tokenUrl = settings.tokenUrl ?? `https://login.microsoftonline.com/${encodeURIComponent(settings.tenantId)}/oauth2/v2.0/token`;
  }

  private async accessToken(): Promise<string> {
    const s = this.settings;
    return cachedToken(`entra:${s.tenantId}:${s.clientId}`, async () => {
      const form = new URLSearchParams({ client_id: s.clientId, scope: "https://graph.microsoft.com/.default", grant_type: "client_credentials" });
      if (s.auth.type === "client-secret") form.set("client_secret", await resolveSecret(s.auth.secretRef));
      else {
        const x5t = Buffer.from(s.auth.thumbprint, "hex").toString("base64url");
        form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.set("client_assertion", clientAssertion({ clientId: s.clientId, audience: this.tokenUrl, privateKeyPem: await resolveSecret(s.auth.privateKeyRef), header: { x5t } }));
      }
      const url = new URL(this.tokenUrl);
      const res = await request({
        baseUrl: url.origin,
        method: "POST",
        path: url.pathname,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
        timeoutMs: s.timeoutMs,
        fetchImpl: this.fetchImpl,
        clock: this.clock,
        evidence: this.evidence,
      });
      const body = res.body as { access_token?: string; expires_in?: number | string };
      if (!body?.access_token) throw new Permanent("token endpoint answered without an access_token");
      // expires_in arrives as a number or, from some endpoints, a string.
      return { token: body.access_token, expiresInSeconds: Number(body.expires_in) || 3600 };
    });
  }

  private async call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return request({
      baseUrl: this.settings.graphUrl,
      method,
      path,
      headers: { accept: "application/json", authorization: `Bearer ${await this.accessToken()}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: this.settings.timeoutMs,
      fetchImpl: this.fetchImpl,
      clock: this.clock,
      evidence: this.evidence,
      beforeRequest: this.limiter ? () => this.limiter!.acquire({ bucket: `graph:${this.settings.tenantId}`, perMinute: this.settings.rateLimitPerMinute }) : undefined,
    });
  }

  async disable(userRef: string): Promise<IdpDisableResult> {
    const path = `/users/${encodeURIComponent(userRef)}`;
    const patched = await this.call("PATCH", path, { accountEnabled: false });
    const disabledAt = this.clock().toISOString();
    if (patched.status === 404) return { userId: null, found: false, disabledAt, sessionsRevokedAt: null, note: "user already deleted in Entra ID" };
    await this.call("POST", `${path}/revokeSignInSessions`);
    return { userId: userRef, found: true, disabledAt, sessionsRevokedAt: this.clock().toISOString(), note: "disabled; sign-in sessions revoked" };
  }

  async verify(userRef: string): Promise<IdpVerifyResult> {
    const res = await this.call("GET", `/users/${encodeURIComponent(userRef)}?$select=id,accountEnabled`);
    const verifiedAt = this.clock().toISOString();
    if (res.status === 404) return { verifiedAt, readBack: "deleted" };
    const enabled = (res.body as { accountEnabled?: unknown })?.accountEnabled;
    if (enabled !== false) throw new Unverified(`Entra ID user reads back accountEnabled=${String(enabled)}`);
    return { verifiedAt, readBack: "accountEnabled=false" };
  }

  /** What Entra says of a user now: enabled, disabled, or deleted (then from the recycle bin, when there). */
  async lookupUser(id: string): Promise<EntraUserState> {
    const select = "$select=id,accountEnabled,mail,userPrincipalName";
    const res = await this.call("GET", `/users/${encodeURIComponent(id)}?${select}`);
    if (res.status !== 404) return toUserState(res.body, "live");
    const deleted = await this.call("GET", `/directory/deletedItems/${encodeURIComponent(id)}/microsoft.graph.user?${select}`);
    // Neither a user nor in the recycle bin: permanently deleted long ago, or an id that never existed.
    return deleted.status === 404 ? { id, state: "deleted", unknownToEntra: true } : { ...toUserState(deleted.body, "deleted"), state: "deleted" };
  }

  /** One page of `users/delta`; pass the nextLink or deltaLink from the previous page to continue. */
  async usersDelta(link?: string): Promise<{ users: Array<EntraUserState & { removed: boolean }>; nextLink?: string; deltaLink?: string }> {
    const path = link ? link.replace(this.settings.graphUrl, "") : "/users/delta?$select=id,accountEnabled,mail,userPrincipalName";
    const res = await this.call("GET", path);
    const body = (res.body ?? {}) as { value?: unknown[]; "@odata.nextLink"?: string; "@odata.deltaLink"?: string };
    const users = (body.value ?? []).map((u) => {
      const removed = Boolean((u as Record<string, unknown>)["@removed"]);
      return { ...toUserState(u, removed ? "deleted" : "live"), removed };
    });
    return { users, nextLink: body["@odata.nextLink"], deltaLink: body["@odata.deltaLink"] };
  }

  async createSubscription(input: { notificationUrl: string; lifecycleNotificationUrl?: string; clientState: string; expirationDateTime: string }): Promise<{ id: string; expirationDateTime: string }> {
    const res = await this.call("POST", "/subscriptions", { changeType: "updated,deleted", resource: "users", ...input });
    return subscriptionOf(res.body);
  }

  async renewSubscription(id: string, expirationDateTime: string): Promise<{ id: string; expirationDateTime: string } | undefined> {
    const res = await this.call("PATCH", `/subscriptions/${encodeURIComponent(id)}`, { expirationDateTime });
    return res.status === 404 ? undefined : subscriptionOf(res.body);
  }

  /** Answers a reauthorizationRequired lifecycle notification; false when the subscription is gone. */
  async reauthorizeSubscription(id: string): Promise<boolean> {
    const res = await this.call("POST", `/subscriptions/${encodeURIComponent(id)}/reauthorize`);
    return res.status !== 404;
  }
}

export interface EntraUserState {
  id: string;
  state: "enabled" | "disabled" | "deleted";
  email?: string;
  /** Found nowhere in Entra: acted on only when this pipeline already knows the id. */
  unknownToEntra?: boolean;
}

function toUserState(body: unknown, where: "live" | "deleted"): EntraUserState {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.id !== "string") throw new Permanent("Graph answered a user without an id");
  // A deleted user's UPN is prefixed with its id (without dashes).
  const prefix = b.id.replace(/-/g, "").toLowerCase();
  const upn = typeof b.userPrincipalName === "string" ? (where === "deleted" && b.userPrincipalName.toLowerCase().startsWith(prefix) ? b.userPrincipalName.slice(prefix.length) : b.userPrincipalName) : undefined;
  // The sign-in name first: it is this account's own and unique to it, where `mail` is a contact address
  // another account may carry (alice-adm@ with alice@'s mail): disabling the admin account must not
  // offboard Alice. `mail` only when the UPN is not an address.
  const email = [upn, b.mail].find((v): v is string => typeof v === "string" && /^[^@\s]+@[^@\s]+$/.test(v));
  const state = where === "deleted" ? "deleted" : b.accountEnabled === false ? "disabled" : "enabled";
  return { id: b.id, state, ...(email ? { email: email.toLowerCase() } : {}) };
}

function subscriptionOf(body: unknown): { id: string; expirationDateTime: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.id !== "string" || typeof b.expirationDateTime !== "string") throw new Permanent("Graph answered a subscription without id or expirationDateTime");
  return { id: b.id, expirationDateTime: b.expirationDateTime };
}
