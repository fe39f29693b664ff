import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EntraSettings, OktaSettings } from "../../../functions/lib/catalog";
import { Permanent, Throttled, Unverified } from "../../../functions/lib/errors";
import { GraphClient } from "../../../functions/lib/graph";
import { OktaClient } from "../../../functions/lib/okta";
import { GraphStandIn, OktaStandIn, oktaRateLimited } from "../../../local/idp-standins";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
const okta = new OktaStandIn("okta-api-token", { clientId: "0oaSERVICEAPP", publicKeyPem: keys.publicKey });
const graph = new GraphStandIn("tenant-1", "client-1", "graph-secret");

beforeAll(async () => {
  process.env.T_OKTA_TOKEN = "okta-api-token";
  process.env.T_OKTA_KEY = keys.privateKey;
  process.env.T_GRAPH_SECRET = "graph-secret";
  process.env.T_WRONG = "wrong";
  await okta.start();
  await graph.start();
});
afterAll(async () => {
  await okta.stop();
  await graph.stop();
});

const oktaClient = (auth: Record<string, unknown> = { type: "api-token", tokenRef: "T_OKTA_TOKEN" }, extra = {}) =>
  OktaClient.fromSettings(OktaSettings.parse({ orgUrl: okta.baseUrl, auth, ...extra }));
// Tokens are cached per tenant and client, so a case with a bad secret uses a client of its own.
const graphClient = (secretRef = "T_GRAPH_SECRET", clientId = "client-1") =>
  new GraphClient(EntraSettings.parse({ tenantId: "tenant-1", clientId, graphUrl: graph.graphUrl, tokenUrl: graph.tokenUrl, auth: { type: "client-secret", secretRef } }));

describe("Okta front door", () => {
  it("deactivates, clears sessions with OAuth tokens, revokes grants, then reads DEPROVISIONED back", async () => {
    const user = okta.addUser("00uA", "ann@example.com");
    const client = oktaClient();
    const result = await client.disable("00uA", "deactivate");
    expect(result).toMatchObject({ userId: "00uA", found: true, note: "deactivated (was ACTIVE)", sessionsRevokedAt: expect.any(String) });
    expect(user).toMatchObject({ status: "DEPROVISIONED", sessions: 0, oauthTokens: 0, grants: 0 });
    expect(client.evidence.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "GET /api/v1/users/00uA 200",
      "POST /api/v1/users/00uA/lifecycle/deactivate?sendEmail=false 200",
      "DELETE /api/v1/users/00uA/sessions?oauthTokens=true 204",
      "DELETE /api/v1/users/00uA/grants 204",
    ]);
    expect(await client.verify("00uA", "deactivate")).toMatchObject({ readBack: "DEPROVISIONED" });
  });

  it("finds the user by login when no Okta id is linked, and never deactivates twice (Okta refuses a DEPROVISIONED user)", async () => {
    okta.addUser("00uB", "ben@example.com", "DEPROVISIONED");
    const client = oktaClient();
    expect((await client.disable("ben@example.com", "deactivate")).note).toBe("already deactivated");
    expect(client.evidence.some((e) => e.path.includes("lifecycle"))).toBe(false);
  });

  it("another run deactivates the user between the read and the lifecycle call: Okta's 400 is read back as done, sessions still cleared", async () => {
    const user = okta.addUser("00uB2", "bea2@example.com");
    // The concurrent run's deactivation lands first; Okta then refuses this one (400 E0000001).
    okta.inject((req) => (req.method === "POST" && req.path === "/api/v1/users/00uB2/lifecycle/deactivate" ? ((user.status = "DEPROVISIONED"), false) : false));
    const client = oktaClient();
    const result = await client.disable("00uB2", "deactivate");
    okta.clearFaults();
    expect(result).toMatchObject({ found: true, note: "already deactivated (by a concurrent run)", sessionsRevokedAt: expect.any(String) });
    expect(client.evidence.map((e) => `${e.method} ${e.path.split("?")[0]} ${e.status}`)).toEqual([
      "GET /api/v1/users/00uB2 200",
      "POST /api/v1/users/00uB2/lifecycle/deactivate 400",
      "GET /api/v1/users/00uB2 200",
      "DELETE /api/v1/users/00uB2/sessions 204",
      "DELETE /api/v1/users/00uB2/grants 204",
    ]);
    expect(user).toMatchObject({ sessions: 0, grants: 0 });
  });

  it("a 400 on deactivation while the user is still active stays a Permanent failure", async () => {
    okta.addUser("00uB3", "bea3@example.com");
    okta.inject((req, res) => (req.method === "POST" && req.path.startsWith("/api/v1/users/00uB3/lifecycle/") ? (res.status(400).json({ errorCode: "E0000001", errorSummary: "Api validation failed" }), true) : false));
    const e = await oktaClient().disable("00uB3", "deactivate").catch((x: unknown) => x);
    okta.clearFaults();
    expect(e).toBeInstanceOf(Permanent);
  });

  it("a suspension suspends an ACTIVE user and keeps the account; the read-back accepts SUSPENDED", async () => {
    const user = okta.addUser("00uC", "cat@example.com");
    const client = oktaClient();
    expect((await client.disable("00uC", "suspend")).note).toBe("suspended");
    expect(user.status).toBe("SUSPENDED");
    expect(await client.verify("00uC", "suspend")).toMatchObject({ readBack: "SUSPENDED" });
    await expect(client.verify("00uC", "deactivate")).rejects.toThrow(Unverified);
  });

  it("no such user (404, E0000007) is nothing to disable; the read-back says absent", async () => {
    const client = oktaClient();
    expect(await client.disable("nobody@example.com", "deactivate")).toMatchObject({ found: false, userId: null });
    expect(await client.verify("nobody@example.com", "deactivate")).toMatchObject({ readBack: "absent" });
  });

  it("a wrong token is a Permanent failure carrying Okta's errorSummary and errorCode, never the token", async () => {
    const e = (await oktaClient({ type: "api-token", tokenRef: "T_WRONG" }).disable("00uA", "deactivate").catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(Permanent);
    expect(e.message).toContain("401: Invalid token provided (E0000011)");
    expect(e.message).not.toContain("wrong");
  });

  it("a 429 whose X-Rate-Limit-Reset is seconds away is waited out here, once, and the call succeeds", async () => {
    okta.addUser("00uD", "dan@example.com");
    okta.inject(oktaRateLimited(1));
    const client = oktaClient();
    await client.disable("00uD", "deactivate");
    okta.clearFaults();
    expect(client.evidence.slice(0, 2).map((e) => e.status)).toEqual([429, 200]);
  });

  it("a 429 that persists is Throttled, with the wait taken from X-Rate-Limit-Reset, for the state machine's backoff", async () => {
    okta.addUser("00uD2", "dan2@example.com");
    okta.inject(oktaRateLimited(2));
    const e = (await oktaClient().disable("00uD2", "deactivate").catch((x: unknown) => x)) as Throttled;
    okta.clearFaults();
    expect(e).toBeInstanceOf(Throttled);
    expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(0);
    expect(e.retryAfterSeconds).toBeLessThanOrEqual(2);
    expect(e.message).toContain("E0000047");
  });

  it("a login in a path never reaches an error message (logs), only the evidence", async () => {
    okta.inject(oktaRateLimited(2));
    const e = (await oktaClient().disable("eve@example.com", "deactivate").catch((x: unknown) => x)) as Error;
    okta.clearFaults();
    expect(e.message).not.toContain("eve@example.com");
  });

  it("OAuth 2.0 service app with a private-key JWT: a signed assertion buys a bearer token", async () => {
    const user = okta.addUser("00uE", "eli@example.com");
    const client = oktaClient({ type: "private-key-jwt", clientId: "0oaSERVICEAPP", privateKeyRef: "T_OKTA_KEY", keyId: "k1" });
    await client.disable("00uE", "deactivate");
    expect(user.status).toBe("DEPROVISIONED");
    expect(client.evidence[0]).toMatchObject({ method: "POST", path: "/oauth2/v1/token", status: 200 });
  });

  it("an assertion signed with another key is refused", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    process.env.T_OTHER_KEY = other.privateKey;
    const client = oktaClient({ type: "private-key-jwt", clientId: "0oaOTHERAPP", privateKeyRef: "T_OTHER_KEY" });
    await expect(client.disable("00uA", "deactivate")).rejects.toThrow(/401: The client_assertion signature is invalid/);
  });
});

describe("Microsoft Graph front door", () => {
  it("disables, revokes sign-in sessions, and reads accountEnabled=false back", async () => {
    const user = graph.addUser("g-1", "fay@example.com");
    const client = graphClient();
    const result = await client.disable("fay@example.com");
    expect(result).toMatchObject({ found: true, sessionsRevokedAt: expect.any(String) });
    expect(user.accountEnabled).toBe(false);
    expect(Date.parse(user.signInSessionsValidFromDateTime)).toBeGreaterThan(Date.parse("2026-01-01T00:00:00Z"));
    expect(client.evidence.map((e) => `${e.method} ${e.status}`)).toEqual(["POST 200", "PATCH 204", "POST 200"]);
    expect(await client.verify("fay@example.com")).toMatchObject({ readBack: "accountEnabled=false" });
  });

  it("a user already deleted (404) is a success for the disable, noted, and reads back as deleted", async () => {
    const client = graphClient();
    expect(await client.disable("ghost@example.com")).toMatchObject({ found: false, note: "user already deleted in Entra ID" });
    expect(await client.verify("ghost@example.com")).toMatchObject({ readBack: "deleted" });
  });

  it("a read-back that still says enabled is Unverified", async () => {
    graph.addUser("g-2", "gil@example.com");
    await expect(graphClient().verify("gil@example.com")).rejects.toThrow(/accountEnabled=true/);
  });

  it("a bad client secret is Permanent with AAD's error, and 403 Authorization_RequestDenied is Permanent too", async () => {
    await expect(graphClient("T_WRONG", "client-with-bad-secret").disable("fay@example.com")).rejects.toThrow(/401: AADSTS7000215: Invalid client secret provided/);
    graph.inject((req, res) => {
      if (req.method !== "PATCH") return false;
      res.status(403).json({ error: { code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation." } });
      return true;
    });
    const e = await graphClient().disable("fay@example.com").catch((x: unknown) => x);
    graph.clearFaults();
    expect(e).toBeInstanceOf(Permanent);
    expect((e as Error).message).toContain("Insufficient privileges to complete the operation. (Authorization_RequestDenied)");
  });

  it("429 with Retry-After is Throttled", async () => {
    graph.inject((req, res) => {
      if (req.method !== "PATCH") return false;
      res.status(429).set("Retry-After", "3").json({ error: { code: "TooManyRequests", message: "Too many requests" } });
      return true;
    });
    const e = (await graphClient().disable("fay@example.com").catch((x: unknown) => x)) as Throttled;
    graph.clearFaults();
    expect(e).toBeInstanceOf(Throttled);
    expect(e.retryAfterSeconds).toBe(3);
  });

  it("a certificate credential sends an RS256 client assertion with the x5t thumbprint header", async () => {
    let form: URLSearchParams | undefined;
    const fetchImpl = (async (url: string | URL, init?: RequestInit) => {
      if (String(url).endsWith("/token")) {
        form = new URLSearchParams(String(init?.body));
        return new Response(JSON.stringify({ access_token: "t", expires_in: "3599" }), { status: 200 });
      }
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const settings = EntraSettings.parse({ tenantId: "tenant-cert", clientId: "client-cert", auth: { type: "certificate", privateKeyRef: "T_OKTA_KEY", thumbprint: "A".repeat(40) } });
    await new GraphClient(settings, fetchImpl).disable("x@example.com").catch(() => undefined);
    const [header, claims] = form!.get("client_assertion")!.split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
    expect(header).toMatchObject({ alg: "RS256", x5t: Buffer.from("A".repeat(40), "hex").toString("base64url") });
    expect(claims).toMatchObject({ iss: "client-cert", sub: "client-cert", aud: "https://login.microsoftonline.com/tenant-cert/oauth2/v2.0/token" });
    expect(form!.get("client_secret")).toBeNull();
  });
});
