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

interface AppContext {
  users: Map<string, UserRecord>;
  ignoreDeactivation: boolean;
}

let declared = false;
/** SCIMMY's resource declarations are process-wide; each app's router passes its own store as context. */
function declareUserResource() {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, data, ctx) => {
      const { users, ignoreDeactivation } = ctx as AppContext;
      const now = new Date().toISOString();
      if (resource.id) {
        const current = users.get(resource.id);
        if (!current) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
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
      const all = [...users.values()];
      return resource.filter ? resource.filter.match(all) : all;
    })
    .degress((resource, ctx) => {
      const { users } = ctx as AppContext;
      if (!resource.id || !users.delete(resource.id)) throw new SCIMMY.Types.Error(404, "noTarget", `Resource ${resource.id} not found`);
    });
}

export interface ScimAppOptions {
  token: string;
  latencyMs?: number;
}

export class ScimApp extends StandIn {
  readonly users = new Map<string, UserRecord>();
  private readonly context: AppContext = { users: this.users, ignoreDeactivation: false };

  constructor(private readonly options: ScimAppOptions) {
    super(options.latencyMs);
    declareUserResource();
  }

  override get baseUrl(): string {
    return `${this.origin}/scim/v2`;
  }

  protected routes(app: express.Express) {
    const token = this.options.token;
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
