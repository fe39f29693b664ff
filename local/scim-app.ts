import { randomUUID } from "node:crypto";
import type express from "express";
import type { Request, Response } from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import { type Fault, StandIn } from "./standin";

export type { Fault };

/**
 * A real SCIM 2.0 service provider (scimmy + scimmy-routers) standing in for one SaaS app: the demo
 * and the tests revoke against it and then read its own store to prove the user is inactive.
 * Faults can be injected ahead of the SCIM routes to play the provider behaviours seen in the wild.
 */

type UserRecord = Record<string, unknown> & { id: string; userName: string; active?: boolean };

type GroupRecord = Record<string, unknown> & { id: string; displayName: string; members?: Array<{ value: string; display?: string }> };

interface AppContext {
  users: Map<string, UserRecord>;
  groups: Map<string, GroupRecord>;
  ignoreDeactivation: boolean;
  /** Deactivating writes (PATCH/PUT with active=false, DELETE) this app processed, per user id. */
  deactivations: Map<string, number>;
}

/** Each record's names, lower-cased once: records are replaced, never changed in place, on every write. */
const lookupKeys = new WeakMap<UserRecord, { userName: string; emails: string[] }>();
function keysOf(user: UserRecord) {
  let keys = lookupKeys.get(user);
  if (!keys) {
    const emails = Array.isArray(user.emails) ? (user.emails as Array<{ value?: unknown }>).map((e) => String(e?.value).toLowerCase()) : [];
    lookupKeys.set(user, (keys = { userName: String(user.userName).toLowerCase(), emails }));
  }
  return keys;
}

/**
 * A provider looks a user up by name through an index, not by running its filter over every record.
 * For the lookups the pipeline makes (`userName eq`, `emails.value eq`, or ORs of them), only the
 * records whose value is equal ignoring case can match, so scimmy's own filter runs on those alone: the
 * same answer as the full scan, without coercing thousands of records per request under load.
 */
function lookupCandidates(filter: unknown, users: Map<string, UserRecord>): UserRecord[] {
  const all = () => [...users.values()];
  if (!Array.isArray(filter) || filter.length === 0) return all();
  const wanted = { userName: new Set<string>(), email: new Set<string>() };
  for (const group of filter as Array<Record<string, unknown>>) {
    const keys = Object.keys(group);
    if (keys.length !== 1) return all();
    const [key] = keys as [string];
    const expr = key === "userName" ? group.userName : key === "emails" ? (group.emails as Record<string, unknown> | undefined)?.value : undefined;
    if (key === "emails" && Object.keys(group.emails as object).length !== 1) return all();
    if (!Array.isArray(expr) || expr[0] !== "eq" || typeof expr[1] !== "string") return all();
    wanted[key === "userName" ? "userName" : "email"].add(expr[1].toLowerCase());
  }
  const candidates: UserRecord[] = [];
  for (const user of users.values()) {
    const keys = keysOf(user);
    if (wanted.userName.has(keys.userName) || keys.emails.some((e) => wanted.email.has(e))) candidates.push(user);
  }
  return candidates;
}

let declared = false;
/** SCIMMY's resource declarations are process-wide; each app's router passes its own store as context. */
function declareUserResource() {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, data, ctx) => {
      const { users, ignoreDeactivation, deactivations } = ctx as AppContext;
      const now = new Date().toISOString();
      if (resource.id) {
        const current = users.get(resource.id);
        if (!current) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
        if ((data as { active?: unknown }).active === false) deactivations.set(resource.id, (deactivations.get(resource.id) ?? 0) + 1);
        // A provider that answers 200 to a deactivation and changes nothing: the case read-back exists for.
        const next = { ...(data as object), id: resource.id, meta: { ...(current.meta as object), lastModified: now } } as unknown as UserRecord;
        if (ignoreDeactivation) next.active = current.active;
        users.set(resource.id, next);
        return next;
      }
      const record = { ...(data as object), id: randomUUID(), meta: { created: now, lastModified: now } } as unknown as UserRecord;
      users.set(record.id, record);
      return record;
    })
    .egress((resource, ctx) => {
      const { users } = ctx as AppContext;
      if (resource.id) {
        const user = users.get(resource.id);
        if (!user) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
        return user;
      }
      return resource.filter ? resource.filter.match(lookupCandidates(resource.filter, users)) : [...users.values()];
    })
    .degress((resource, ctx) => {
      const { users, deactivations } = ctx as AppContext;
      if (!resource.id || !users.delete(resource.id)) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
      deactivations.set(resource.id, (deactivations.get(resource.id) ?? 0) + 1);
    });
  // Groups model the app's roles: offboarding removes the person from each, and only the person.
  SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress((resource, data, ctx) => {
      const { groups } = ctx as AppContext;
      const id = resource.id ?? randomUUID();
      if (resource.id && !groups.has(resource.id)) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
      const record = { ...(data as object), id, meta: { resourceType: "Group", lastModified: new Date().toISOString() } } as unknown as GroupRecord;
      // scimmy drops `members` when the last one is removed, and its own filter then fails on the group.
      if (!Array.isArray(record.members)) record.members = [];
      groups.set(id, record);
      return record;
    })
    .egress((resource, ctx) => {
      const { groups } = ctx as AppContext;
      if (resource.id) {
        const group = groups.get(resource.id);
        if (!group) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
        return group;
      }
      const all = [...groups.values()];
      return resource.filter ? resource.filter.match(all) : all;
    })
    .degress((resource, ctx) => {
      const { groups } = ctx as AppContext;
      if (!resource.id || !groups.delete(resource.id)) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
    });
}

export interface ScimAppOptions {
  token: string;
  latencyMs?: number;
}

export class ScimApp extends StandIn {
  readonly users = new Map<string, UserRecord>();
  readonly groups = new Map<string, GroupRecord>();
  /** Deactivating writes (PATCH/PUT active=false, DELETE) the app processed, per user id, whatever became of the answer. */
  readonly deactivations = new Map<string, number>();
  private readonly context: AppContext = { users: this.users, groups: this.groups, ignoreDeactivation: false, deactivations: this.deactivations };

  constructor(private readonly options: ScimAppOptions) {
    super(options.latencyMs);
    declareUserResource();
  }

  override get baseUrl(): string {
    return `${this.origin}/scim/v2`;
  }

  protected routes(app: express.Express) {
    const token = this.options.token;
    // Express 5 returns a new req.query object on every read, so scimmy-routers' cast of startIndex
    // and count to numbers is lost and paging is ignored; a plain, writable query object fixes that.
    app.use((req: Request, _res: Response, next: () => void) => {
      Object.defineProperty(req, "query", { value: { ...req.query }, writable: true, configurable: true });
      next();
    });
    app.use(
      "/scim/v2",
      new SCIMMYRouters({
        type: "bearer",
        docUri: "https://example.com/scim-auth",
        handler: (req: Request) => {
          if (req.header("authorization") !== `Bearer ${token}`) throw new Error("Authorization failure");
          return "revoke";
        },
        context: () => this.context,
      }),
    );
  }

  /** What the app does at a person's first SSO when it provisions just in time. */
  jitCreate(userName: string, email = userName.toLowerCase()): UserRecord {
    const now = new Date().toISOString();
    const record: UserRecord = {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      id: randomUUID(),
      userName,
      active: true,
      emails: [{ value: email, primary: true, type: "work" }],
      meta: { resourceType: "User", created: now, lastModified: now },
    };
    this.users.set(record.id, record);
    return record;
  }

  /** A role in the app, with members by user id. */
  addGroup(displayName: string, memberIds: string[]): GroupRecord {
    const group: GroupRecord = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], id: randomUUID(), displayName, members: memberIds.map((value) => ({ value })) };
    this.groups.set(group.id, group);
    return group;
  }

  findByUserName(userName: string): UserRecord | undefined {
    return [...this.users.values()].find((u) => u.userName.toLowerCase() === userName.toLowerCase());
  }

  override clearFaults(): this {
    super.clearFaults();
    this.context.ignoreDeactivation = false;
    return this;
  }

  /** Answer 200 to deactivations without changing anything. */
  ignoreDeactivations(): this {
    this.context.ignoreDeactivation = true;
    return this;
  }
}

/** Fails the next `times` requests matching `method` with a status (and headers), then lets them through. */
export function failTimes(times: number, status: number, method?: string, headers: Record<string, string> = {}): Fault {
  let left = times;
  return (req, res) => {
    if (left <= 0 || (method && req.method !== method)) return false;
    left--;
    res.status(status).set(headers).type("application/scim+json").send(JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(status), detail: `injected ${status}` }));
    return true;
  };
}

/** Holds the next `times` requests matching `method` unanswered (the client times out); they never reach the app. */
export function hangTimes(times: number, method?: string): Fault {
  let left = times;
  return (req) => {
    if (left <= 0 || (method && req.method !== method)) return false;
    left--;
    return true;
  };
}

/** Resets the connection of the next `times` requests matching `method` before the app sees them. */
export function resetTimes(times: number, method?: string): Fault {
  let left = times;
  return (req) => {
    if (left <= 0 || (method && req.method !== method)) return false;
    left--;
    req.socket.destroy();
    return true;
  };
}

/**
 * Lets the next `times` requests matching `method` through to the app, which processes them, and then
 * loses the answer: the connection is reset, or never answered (the client times out).
 */
export function loseAnswerTimes(times: number, method: string | undefined, how: "reset" | "hang"): Fault {
  let left = times;
  return (req, res) => {
    if (left <= 0 || (method && req.method !== method)) return false;
    left--;
    const end = () => {
      if (how === "reset") req.socket.destroy();
      return res;
    };
    res.end = end as typeof res.end;
    return false;
  };
}
