import { createPublicKey, createVerify, randomBytes } from "node:crypto";
import express, { type Request, type Response } from "express";
import { StandIn } from "./standin";

/**
 * Local stand-ins for the Okta Management API and Microsoft Graph, for the demo and the tests. They
 * follow the vendors' documented paths, status codes, error bodies and rate-limit headers for the
 * calls the pipeline makes; they are not general emulators.
 */

export interface OktaUserRecord {
  id: string;
  status: "STAGED" | "ACTIVE" | "SUSPENDED" | "DEPROVISIONED";
  profile: { login: string; email: string };
  sessions: number;
  oauthTokens: number;
  grants: number;
  /** Okta groups the user is in, and app instances assigned to them directly. */
  groupIds: string[];
  appInstanceIds: string[];
}

const oktaError = (res: Response, status: number, errorCode: string, errorSummary: string) =>
  res.status(status).json({ errorCode, errorSummary, errorLink: errorCode, errorId: `oae${randomBytes(8).toString("hex")}`, errorCauses: [] });

export class OktaStandIn extends StandIn {
  readonly users = new Map<string, OktaUserRecord>();
  /** The API token (SSWS) it accepts, and optionally a service app's public key for private_key_jwt. */
  constructor(
    private readonly apiToken: string,
    private readonly serviceApp?: { clientId: string; publicKeyPem: string },
  ) {
    super();
  }
  private readonly accessTokens = new Set<string>();
  /** Group → app instances the group is assigned to (Okta group-based app assignment). */
  readonly groupGrants = new Map<string, string[]>();

  addUser(id: string, login: string, status: OktaUserRecord["status"] = "ACTIVE"): OktaUserRecord {
    const user: OktaUserRecord = { id, status, profile: { login, email: login }, sessions: 2, oauthTokens: 3, grants: 1, groupIds: [], appInstanceIds: [] };
    this.users.set(id, user);
    return user;
  }

  private find(ref: string): OktaUserRecord | undefined {
    return this.users.get(ref) ?? [...this.users.values()].find((u) => u.profile.login.toLowerCase() === ref.toLowerCase());
  }

  protected routes(app: express.Express) {
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.post("/oauth2/v1/token", (req, res) => {
      const body = req.body as Record<string, string>;
      const assertion = body.client_assertion ?? "";
      if (!this.serviceApp || body.grant_type !== "client_credentials" || !verifyRs256(assertion, this.serviceApp.publicKeyPem, this.serviceApp.clientId)) {
        return res.status(401).json({ error: "invalid_client", error_description: "The client_assertion signature is invalid." });
      }
      const token = randomBytes(16).toString("hex");
      this.accessTokens.add(token);
      res.json({ token_type: "Bearer", expires_in: 3600, access_token: token, scope: body.scope });
    });
    app.use("/api/v1", (req, res, next) => {
      const auth = req.header("authorization") ?? "";
      const ok = auth === `SSWS ${this.apiToken}` || (auth.startsWith("Bearer ") && this.accessTokens.has(auth.slice(7)));
      if (!ok) return oktaError(res, 401, "E0000011", "Invalid token provided");
      next();
    });
    app.get("/api/v1/users/:ref", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return oktaError(res, 404, "E0000007", `Not found: Resource not found: ${req.params.ref} (User)`);
      res.json({ id: user.id, status: user.status, profile: user.profile, _links: {} });
    });
    // Paged two at a time (Okta's default is 200) so the client's Link-header paging is exercised.
    app.get("/api/v1/users/:ref/groups", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return oktaError(res, 404, "E0000007", `Not found: Resource not found: ${req.params.ref} (User)`);
      const after = Number(req.query.after ?? 0);
      const page = user.groupIds.slice(after, after + 2);
      if (after + 2 < user.groupIds.length) res.set("link", `<${req.protocol}://${req.get("host")}/api/v1/users/${user.id}/groups?limit=2&after=${after + 2}>; rel="next"`);
      res.json(page.map((id) => ({ id, type: "OKTA_GROUP", profile: { name: id } })));
    });
    app.get("/api/v1/apps/:appId/users/:userId", (req, res) => {
      const user = this.find(String(req.params.userId));
      const appId = String(req.params.appId);
      const viaGroup = [...this.groupGrants.entries()].some(([group, apps]) => apps.includes(appId) && user?.groupIds.includes(group));
      if (!user || !(user.appInstanceIds.includes(appId) || viaGroup)) return oktaError(res, 404, "E0000007", `Not found: Resource not found: ${req.params.userId} (AppUser)`);
      res.json({ id: user.id, scope: user.appInstanceIds.includes(appId) ? "USER" : "GROUP", status: "ACTIVE", credentials: { userName: user.profile.login } });
    });
    app.post("/api/v1/users/:ref/lifecycle/:op", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return oktaError(res, 404, "E0000007", `Not found: Resource not found: ${req.params.ref} (User)`);
      if (req.params.op === "deactivate") {
        if (user.status === "DEPROVISIONED") return oktaError(res, 400, "E0000001", "Api validation failed: User is already deactivated");
        user.status = "DEPROVISIONED";
        user.sessions = 0;
        return res.status(200).send();
      }
      if (req.params.op === "suspend") {
        if (user.status !== "ACTIVE") return oktaError(res, 400, "E0000001", "Api validation failed: Cannot suspend a user that is not active");
        user.status = "SUSPENDED";
        return res.status(200).send();
      }
      return oktaError(res, 404, "E0000022", "The endpoint does not support the provided HTTP method");
    });
    app.delete("/api/v1/users/:ref/sessions", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return oktaError(res, 404, "E0000007", `Not found: Resource not found: ${req.params.ref} (User)`);
      user.sessions = 0;
      if (req.query.oauthTokens === "true") user.oauthTokens = 0;
      res.status(204).send();
    });
    app.delete("/api/v1/users/:ref/grants", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return oktaError(res, 404, "E0000007", `Not found: Resource not found: ${req.params.ref} (User)`);
      user.grants = 0;
      res.status(204).send();
    });
  }
}

/** A 429 the way Okta sends it: X-Rate-Limit-Limit/-Remaining/-Reset (epoch seconds) and E0000047. */
export function oktaRateLimited(times: number): (req: Request, res: Response) => boolean {
  let left = times;
  return (req, res) => {
    if (left <= 0 || !req.path.startsWith("/api/v1/")) return false;
    left--;
    res.set({ "X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": String(Math.floor(Date.now() / 1000) + 1) });
    oktaError(res, 429, "E0000047", "API call exceeded rate limit due to too many requests.");
    return true;
  };
}

export interface GraphUserRecord {
  id: string;
  userPrincipalName: string;
  /** The SMTP address; the UPN unless set (an admin account may carry its person's mail). */
  mail?: string;
  accountEnabled: boolean;
  signInSessionsValidFromDateTime: string;
}

const graphError = (res: Response, status: number, code: string, message: string) =>
  res.status(status).json({ error: { code, message, innerError: { date: new Date().toISOString(), "request-id": randomBytes(8).toString("hex") } } });

export class GraphStandIn extends StandIn {
  readonly users = new Map<string, GraphUserRecord>();
  /** Users in the recycle bin (deleted in the last 30 days), readable through /directory/deletedItems. */
  readonly deletedUsers = new Map<string, GraphUserRecord>();
  readonly subscriptions = new Map<string, { id: string; expirationDateTime: string; notificationUrl: string; clientState: string }>();
  /** How many users one users/delta page holds, to exercise paging. */
  deltaPageSize = 2;
  private readonly accessTokens = new Set<string>();

  constructor(
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {
    super();
  }

  get tokenUrl(): string {
    return `${this.baseUrl}/${this.tenantId}/oauth2/v2.0/token`;
  }

  get graphUrl(): string {
    return `${this.baseUrl}/v1.0`;
  }

  addUser(id: string, upn: string, mail?: string): GraphUserRecord {
    const user = { id, userPrincipalName: upn, ...(mail ? { mail } : {}), accountEnabled: true, signInSessionsValidFromDateTime: "2026-01-01T00:00:00Z" };
    this.users.set(id, user);
    return user;
  }

  /** Deletes a user the way Entra does: gone from /users, kept in the recycle bin. */
  deleteUser(id: string) {
    const user = this.users.get(id);
    if (!user) return;
    this.users.delete(id);
    this.deletedUsers.set(id, user);
  }

  private find(ref: string): GraphUserRecord | undefined {
    return this.users.get(ref) ?? [...this.users.values()].find((u) => u.userPrincipalName.toLowerCase() === ref.toLowerCase());
  }

  protected routes(app: express.Express) {
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.post("/:tenant/oauth2/v2.0/token", (req, res) => {
      const body = req.body as Record<string, string>;
      if (req.params.tenant !== this.tenantId) return res.status(400).json({ error: "invalid_request", error_description: "AADSTS90002: Tenant not found." });
      if (body.client_id !== this.clientId || body.client_secret !== this.clientSecret) {
        return res.status(401).json({ error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." });
      }
      const token = randomBytes(16).toString("hex");
      this.accessTokens.add(token);
      res.json({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token });
    });
    app.use("/v1.0", (req, res, next) => {
      const auth = req.header("authorization") ?? "";
      if (!auth.startsWith("Bearer ") || !this.accessTokens.has(auth.slice(7))) return graphError(res, 401, "InvalidAuthenticationToken", "Access token validation failure.");
      next();
    });
    const notFound = (res: Response, ref: string) => graphError(res, 404, "Request_ResourceNotFound", `Resource '${ref}' does not exist or one of its queried reference-property objects are not present.`);
    // users/delta: pages through every user (a deleted one as {id, "@removed"}), ending with a deltaLink;
    // this stand-in's deltaLink always replays the current state, which is enough for the tests.
    app.get("/v1.0/users/delta", (req, res) => {
      const all = [
        ...[...this.users.values()].map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName, mail: u.mail ?? u.userPrincipalName, accountEnabled: u.accountEnabled })),
        ...[...this.deletedUsers.values()].map((u) => ({ id: u.id, "@removed": { reason: "changed" } })),
      ];
      const skip = Number(req.query.$skiptoken ?? 0);
      const page = all.slice(skip, skip + this.deltaPageSize);
      const more = skip + this.deltaPageSize < all.length;
      res.json({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,accountEnabled,mail,userPrincipalName)",
        value: page,
        ...(more ? { "@odata.nextLink": `${this.graphUrl}/users/delta?$skiptoken=${skip + this.deltaPageSize}` } : { "@odata.deltaLink": `${this.graphUrl}/users/delta?$deltatoken=latest` }),
      });
    });
    app.get("/v1.0/directory/deletedItems/:id/microsoft.graph.user", (req, res) => {
      const user = this.deletedUsers.get(String(req.params.id));
      if (!user) return notFound(res, String(req.params.id));
      res.json({ id: user.id, userPrincipalName: `${user.id.replace(/-/g, "")}${user.userPrincipalName}`, mail: user.mail ?? user.userPrincipalName, accountEnabled: user.accountEnabled });
    });
    app.post("/v1.0/subscriptions", (req, res) => {
      const b = req.body as Record<string, string>;
      if (b.resource !== "users" || !b.notificationUrl || !b.expirationDateTime) return graphError(res, 400, "InvalidRequest", "resource, notificationUrl and expirationDateTime are required");
      const sub = { id: randomBytes(16).toString("hex"), expirationDateTime: b.expirationDateTime, notificationUrl: b.notificationUrl, clientState: b.clientState ?? "" };
      this.subscriptions.set(sub.id, sub);
      res.status(201).json({ ...sub, resource: "users", changeType: b.changeType });
    });
    app.patch("/v1.0/subscriptions/:id", (req, res) => {
      const sub = this.subscriptions.get(String(req.params.id));
      if (!sub) return notFound(res, String(req.params.id));
      sub.expirationDateTime = String((req.body as Record<string, string>).expirationDateTime);
      res.json({ id: sub.id, expirationDateTime: sub.expirationDateTime, resource: "users" });
    });
    app.post("/v1.0/subscriptions/:id/reauthorize", (req, res) => {
      if (!this.subscriptions.has(String(req.params.id))) return notFound(res, String(req.params.id));
      res.status(204).send();
    });
    app.get("/v1.0/users/:ref", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return notFound(res, String(req.params.ref));
      // $select decides the properties returned, as on Graph.
      const all: Record<string, unknown> = { id: user.id, accountEnabled: user.accountEnabled, userPrincipalName: user.userPrincipalName, mail: user.mail ?? user.userPrincipalName };
      const select = String(req.query.$select ?? "id,accountEnabled").split(",");
      res.json({ "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#users(${select.join(",")})/$entity`, ...Object.fromEntries(select.filter((k) => k in all).map((k) => [k, all[k]])) });
    });
    app.patch("/v1.0/users/:ref", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return notFound(res, String(req.params.ref));
      if (typeof req.body?.accountEnabled === "boolean") user.accountEnabled = req.body.accountEnabled;
      res.status(204).send();
    });
    app.post("/v1.0/users/:ref/revokeSignInSessions", (req, res) => {
      const user = this.find(String(req.params.ref));
      if (!user) return notFound(res, String(req.params.ref));
      user.signInSessionsValidFromDateTime = new Date().toISOString();
      res.json({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", value: true });
    });
  }
}

/** Checks an RS256 client assertion the way an authorization server would (signature, iss/sub, expiry). */
function verifyRs256(jwt: string, publicKeyPem: string, clientId: string): boolean {
  const [header, payload, signature] = jwt.split(".");
  if (!header || !payload || !signature) return false;
  const ok = createVerify("RSA-SHA256").update(`${header}.${payload}`).verify(createPublicKey(publicKeyPem), Buffer.from(signature, "base64url"));
  if (!ok) return false;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: string; sub?: string; exp?: number };
  return claims.iss === clientId && claims.sub === clientId && (claims.exp ?? 0) * 1000 > Date.now();
}
