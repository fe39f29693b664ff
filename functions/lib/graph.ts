import type { EntraSettings } from "./catalog";
import { Permanent, Unverified } from "./errors";
import { type Evidence, type HttpAnswer, request } from "./http";
import { cachedToken, type IdpClient, type IdpDisableResult, type IdpVerifyResult } from "./idp";
import { clientAssertion } from "./jwt";
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
}
