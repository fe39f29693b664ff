import { createPrivateKey, createSign, randomUUID } from "node:crypto";

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * An RS256-signed client assertion (RFC 7523), as Okta's private_key_jwt and Microsoft's certificate
 * credentials expect: iss = sub = client id, aud = the token endpoint, short-lived, unique jti.
 */
export function clientAssertion(input: { clientId: string; audience: string; privateKeyPem: string; header?: Record<string, string>; now?: number }): string {
  const now = Math.floor((input.now ?? Date.now()) / 1000);
  const header = { alg: "RS256", typ: "JWT", ...input.header };
  const claims = { iss: input.clientId, sub: input.clientId, aud: input.audience, iat: now, nbf: now, exp: now + 300, jti: randomUUID() };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(createPrivateKey(input.privateKeyPem));
  return `${signingInput}.${b64url(signature)}`;
}
