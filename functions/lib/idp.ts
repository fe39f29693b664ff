import type { Evidence } from "./http";

/** What closing the front door at one IdP did, before the read-back. */
export interface IdpDisableResult {
  userId: string | null;
  found: boolean;
  disabledAt: string;
  sessionsRevokedAt: string | null;
  note: string;
}

export interface IdpVerifyResult {
  verifiedAt: string;
  readBack: string;
}

export type IdpAction = "deactivate" | "suspend";

/** An identity provider the pipeline can close the front door at. */
export interface IdpClient {
  readonly evidence: Evidence[];
  disable(userRef: string, action: IdpAction): Promise<IdpDisableResult>;
  verify(userRef: string, action: IdpAction): Promise<IdpVerifyResult>;
}

/** Access tokens are cached per process until shortly before they expire, as each vendor asks. */
const tokenCache = new Map<string, { token: string; expiresAt: number }>();
export async function cachedToken(key: string, fetchToken: () => Promise<{ token: string; expiresInSeconds: number }>): Promise<string> {
  const hit = tokenCache.get(key);
  if (hit && hit.expiresAt > Date.now() + 60_000) return hit.token;
  const fresh = await fetchToken();
  tokenCache.set(key, { token: fresh.token, expiresAt: Date.now() + fresh.expiresInSeconds * 1000 });
  return fresh.token;
}
