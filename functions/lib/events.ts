import * as z from "zod";
import { hasControlChars, oneLine } from "./text";

/**
 * Ids and names reach terminals, owner notifications and task pages: a newline or an escape sequence in
 * one could forge a line ("confirm t-…") or repaint a screen, so they are refused, not cleaned.
 */
const printable = (s: string) => !hasControlChars(s);
const nonBlank = z.string().trim().min(1).refine(printable, { message: "must not contain control characters (newlines, escapes)" });
/** Identifiers end up in DynamoDB keys (2048 bytes for a partition key, 1024 for a sort key). */
const identifier = nonBlank.max(256);
/** A display name: the same rule as ids, blank allowed. */
const displayName = (max: number) => z.string().max(max).refine(printable, { message: "must not contain control characters (newlines, escapes)" });
/** Free text (a reason): kept, with control characters turned into spaces. */
const freeText = (max: number) => z.string().max(max).transform(oneLine);

/**
 * Canonical events on the bus. Every vendor payload is normalized into these before anything acts on
 * it, so the rest of the pipeline never sees vendor quirks.
 */
export const DetailType = {
  Arrived: "Identity.Arrived",
  Departed: "Identity.Departed",
  Suspended: "Identity.Suspended",
  RoleChanged: "Identity.RoleChanged",
  /** HR withdrew a termination that had not taken effect yet. */
  DepartureCancelled: "Identity.DepartureCancelled",
  OffboardingCompleted: "Offboarding.Completed",
  OffboardingNeedsAttention: "Offboarding.NeedsAttention",
  /** The mass-departure brake engaged: new departures are held until an engineer decides. */
  BrakeEngaged: "Offboarding.BrakeEngaged",
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];

/**
 * Internal events between the pipeline's own functions (not part of the canonical interface): a Graph
 * notification names only a user id, so the user is looked up before it can become a departure.
 */
export const InternalDetailType = {
  EntraUserChanged: "Entra.UserChanged",
  EntraSweepRequested: "Entra.SweepRequested",
  GraphSubscriptionLifecycle: "Graph.SubscriptionLifecycle",
  GraphSubscriptionRequested: "Graph.SubscriptionRequested",
  /** An engineer released a request the mass-departure brake held (the decision is in the store). */
  HeldReleased: "Brake.HeldReleased",
} as const;

export const EntraUserChanged = z.object({
  entraId: z.string().min(1).max(256).refine(printable, { message: "must not contain control characters" }),
  changeType: z.string().max(64),
  subscriptionId: z.string().max(256).optional(),
  receivedAt: z.string(),
});

export const GraphLifecycle = z.object({
  lifecycleEvent: z.string().max(64),
  subscriptionId: z.string().max(256).optional(),
  receivedAt: z.string(),
});

/** EventBridge `source` of everything this product puts on its bus. */
export const BUS_SOURCE = "revoke.pipeline";

export const EventSource = z.enum(["okta", "entra", "hr", "manual", "reconcile", "expiry"]);
export type EventSource = z.infer<typeof EventSource>;


export const Subject = z
  .object({
    email: z.email().max(254).transform((e) => e.toLowerCase()).optional(),
    hrId: identifier.optional(),
    oktaId: identifier.optional(),
    entraId: identifier.optional(),
  })
  .refine((s) => Boolean(s.email || s.hrId || s.oktaId || s.entraId), {
    message: "subject needs at least one identifier (email, hrId, oktaId or entraId)",
  });
export type Subject = z.infer<typeof Subject>;

export const IdentityDetail = z.object({
  subject: Subject,
  app: z
    .object({
      id: identifier,
      name: displayName(512).optional(),
      /** The name the person has inside the app (e.g. Okta's AppUser alternateId), original casing kept. */
      accountName: displayName(512).optional(),
      /** How the account came to be, for the evidence: a first sign-in (JIT, the default) or an assignment. */
      via: z.enum(["jit-sso", "assignment"]).optional(),
    })
    .optional(),
  occurredAt: z.iso.datetime({ offset: true }),
  source: EventSource,
  sourceEventId: nonBlank.max(256),
  reason: freeText(1024).optional(),
  actor: displayName(256).optional(),
  /** For departures: when access must be gone (a later day is scheduled and started on that day). */
  effectiveAt: z.iso.datetime({ offset: true }).optional(),
  /** For cancellations: the source event id of the departure being withdrawn. */
  cancels: nonBlank.max(256).optional(),
  /** For role changes: which grant of the app was added or removed (a group, or a direct assignment). */
  grant: z
    .object({ change: z.enum(["added", "removed"]), via: z.enum(["group", "assignment"]), id: identifier, name: displayName(512).optional() })
    .optional(),
  /** For arrivals: time-boxed access (contractors) ends here, and then someone must own it. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  owner: nonBlank.max(254).optional(),
  /** For arrivals: a privileged account (admin rights) gets the shorter privileged expiry. */
  privileged: z.boolean().optional(),
}).refine((d) => !d.expiresAt || d.owner, { message: "an arrival with an end date (expiresAt) must name its owner", path: ["owner"] });
export type IdentityDetail = z.infer<typeof IdentityDetail>;

export const IdentityDetailType = z.enum([
  DetailType.Arrived,
  DetailType.Departed,
  DetailType.Suspended,
  DetailType.RoleChanged,
  DetailType.DepartureCancelled,
]);

/** One canonical event as it travels on the bus (the PutEvents entry shape, minus the bus name). */
export const CanonicalEvent = z.object({
  detailType: IdentityDetailType,
  detail: IdentityDetail,
});
export type CanonicalEvent = z.infer<typeof CanonicalEvent>;

/** The EventBridge envelope a rule target receives. */
export const BusEnvelope = z.object({
  id: z.string(),
  "detail-type": z.string(),
  source: z.string(),
  time: z.string(),
  detail: z.unknown(),
});
export type BusEnvelope = z.infer<typeof BusEnvelope>;

export function identityEnvelope(raw: unknown): { detailType: string; detail: IdentityDetail } {
  const envelope = BusEnvelope.parse(raw);
  return { detailType: envelope["detail-type"], detail: IdentityDetail.parse(envelope.detail) };
}
