import { createHash } from "node:crypto";
import * as z from "zod";
import { Subject } from "./events";
import { Trigger } from "./store";

/** Execution names allow [A-Za-z0-9-_], 80 characters at most. */
export function runNameFor(subjectId: string, sourceEventId: string, prefix = "offboard"): string {
  const digest = createHash("sha256").update(sourceEventId).digest("hex").slice(0, 10);
  return `${prefix}-${subjectId.replace(/^sub-/, "")}-${digest}`;
}

/** The input of one `offboard` execution. Infrastructure names never travel here (definitionSubstitutions do that). */
export const OffboardInput = z
  .object({
    runName: z.string().min(1).max(80),
    subjectId: z.string().optional(),
    /** A dry run may name a person by identifiers only; it resolves without creating anything. */
    subject: Subject.optional(),
    trigger: Trigger,
    dryRun: z.boolean().default(false),
    /** Restricts a run to some apps (the tripwire revokes just the app that saw a late arrival). */
    appIds: z.array(z.string()).optional(),
    /**
     * A suspension closes the front door only: sessions and tokens killed, accounts kept. `revoke-apps`
     * is the opposite: only the named apps (a mover, an expiry, a reconciliation finding), the person
     * stays active and signed in everywhere else.
     */
    action: z.enum(["offboard", "suspend", "revoke-apps"]).default("offboard"),
  })
  .refine((i) => i.subjectId || i.subject, { message: "subjectId or subject is required" })
  .refine((i) => i.action !== "revoke-apps" || (i.appIds && i.appIds.length > 0), { message: "revoke-apps needs appIds" });
/** What a starter sends; defaults (dryRun, action) are filled in when the plan parses it. */
export type OffboardInput = z.input<typeof OffboardInput>;

/** One app of a plan, as the Map iterates over it. */
export const PlanApp = z.object({
  appId: z.string(),
  appName: z.string(),
  mode: z.enum(["scim", "manual", "unmapped"]),
  accountName: z.string().optional(),
  emails: z.array(z.string()),
  scimId: z.string().optional(),
  action: z.string(),
  /** For manual apps: who is asked, and the deadlines the state machine enforces. */
  owner: z.string().optional(),
  backupOwner: z.string().optional(),
  taskTimeoutSeconds: z.number().int().optional(),
  /** Three quarters of the timeout: the half-time reminder sends a heartbeat; without one the task escalates early. */
  taskHeartbeatSeconds: z.number().int().optional(),
});
export type PlanApp = z.infer<typeof PlanApp>;

/** One IdP whose front door the run closes. */
export const PlanIdp = z.object({
  id: z.enum(["okta", "entra"]),
  /** The user's id at the IdP, or the login/UPN (their email) when no id is linked yet. */
  userRef: z.string(),
  action: z.enum(["deactivate", "suspend"]),
});
export type PlanIdp = z.infer<typeof PlanIdp>;

export const Plan = z.object({
  subjectId: z.string(),
  runName: z.string(),
  dryRun: z.boolean(),
  trigger: Trigger,
  subjectStatus: z.string(),
  idps: z.array(PlanIdp),
  frontDoorOnly: z.boolean(),
  /** "apps": only some apps of a person who stays (the run never settles the person's status). */
  scope: z.enum(["person", "apps"]).default("person"),
  apps: z.array(PlanApp),
  skipped: z.array(z.object({ appId: z.string(), state: z.string(), reason: z.string() })),
});
export type Plan = z.infer<typeof Plan>;

/** What the Map hands each iteration. */
export const AppStepInput = z.object({
  subjectId: z.string(),
  runName: z.string(),
  app: PlanApp,
});

/** What the front-door Map hands each iteration. */
export const IdpStepInput = z.object({
  subjectId: z.string(),
  runName: z.string(),
  idp: PlanIdp,
});
