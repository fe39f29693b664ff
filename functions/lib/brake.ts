import { createHash } from "node:crypto";
import * as z from "zod";
import type { BrakeSettings } from "./catalog";
import type { Store } from "./store";

/**
 * The mass-departure brake. A bad HR feed (a wrong filter, a test file sent to production) looks
 * exactly like a wave of terminations; revoking on it would lock the company out. Every automatic
 * departure or app revocation is counted in a sliding window; past the threshold the brake engages and
 * everything new is held (PENDING_CONFIRMATION) until an engineer releases or discards it.
 *
 * Put-then-count: each request writes its own window entry before counting, so under concurrency the
 * requests that see the window over the limit may be a few more than strictly necessary. That errs on
 * the side of holding, never of letting the wave through.
 */

export const BrakeState = z.object({
  state: z.enum(["ENGAGED", "RELEASED"]),
  since: z.string(),
  by: z.string(),
  reason: z.string(),
  /** After a release only later requests count, or the same wave would trip it again at once. */
  releasedAt: z.string().optional(),
});
export type BrakeState = z.infer<typeof BrakeState>;

/** What a held request needs to start later exactly as it would have. */
export const HeldRequest = z.object({
  heldId: z.string(),
  kind: z.enum(["departure", "suspension", "revoke-apps"]),
  subjectId: z.string(),
  sourceEventId: z.string(),
  source: z.string(),
  /** The canonical departure detail, or the app revocation request. */
  request: z.record(z.string(), z.unknown()),
  heldAt: z.string(),
  reason: z.string(),
  state: z.enum(["HELD", "RELEASED", "DISCARDED"]),
  decidedAt: z.string().optional(),
  decidedBy: z.string().optional(),
  decisionReason: z.string().optional(),
});
export type HeldRequest = z.infer<typeof HeldRequest>;

export const RELEASED_NOTE = "released by an engineer after the brake held it";

export type BrakeVerdict = { verdict: "pass" | "bypass" | "hold"; reason: string; engagedNow: boolean };

const STATE_KEY = { pk: "BRAKE", sk: "STATE" } as const;
const WINDOW_PK = "BRAKE#WINDOW";

export const heldIdFor = (subjectId: string, sourceEventId: string) =>
  `held-${createHash("sha256").update(`${subjectId}\n${sourceEventId}`).digest("hex").slice(0, 12)}`;

export async function brakeState(store: Store): Promise<BrakeState | undefined> {
  const item = await store.getItem(STATE_KEY.pk, STATE_KEY.sk);
  return item ? BrakeState.parse(item) : undefined;
}

/** Requests counted in the window that ends now (after the last release, if that is later). */
export async function windowCount(store: Store, settings: BrakeSettings, now: Date, state?: BrakeState): Promise<number> {
  const windowStart = new Date(now.getTime() - settings.windowMinutes * 60_000).toISOString();
  const releasedAt = state?.releasedAt;
  const entries = await store.queryPrefix(WINDOW_PK, "");
  // Strictly after the release: what was counted up to the release (in the same millisecond too) is the wave it judged.
  return entries.filter((e) => String(e.at) >= windowStart && (!releasedAt || String(e.at) > releasedAt)).length;
}

/** The limit in force: the count, or the percentage of active people when that is lower. */
export async function limitInForce(store: Store, settings: BrakeSettings): Promise<{ limit: number; basis: string }> {
  if (settings.maxPercentOfActive === undefined) return { limit: settings.maxDepartures, basis: `${settings.maxDepartures} per ${settings.windowMinutes} min` };
  const active = await store.activeCount();
  const byShare = Math.floor((active * settings.maxPercentOfActive) / 100);
  const floor = Math.min(settings.minDepartures, settings.maxDepartures);
  if (byShare >= settings.maxDepartures) return { limit: settings.maxDepartures, basis: `${settings.maxDepartures} per ${settings.windowMinutes} min` };
  if (byShare < floor) return { limit: floor, basis: `${floor} per ${settings.windowMinutes} min (the least; ${settings.maxPercentOfActive}% of ${active} active people is ${byShare})` };
  return { limit: byShare, basis: `${settings.maxPercentOfActive}% of ${active} active people per ${settings.windowMinutes} min` };
}

/**
 * Decides whether one departure (or app revocation) may start now. Manual requests by an engineer
 * pass and say so; a replay of a request already counted is not counted twice.
 */
export async function applyBrake(
  store: Store,
  settings: BrakeSettings,
  request: { subjectId: string; sourceEventId: string; source: string },
  now: Date,
): Promise<BrakeVerdict> {
  if (!settings.enabled) return { verdict: "pass", reason: "brake disabled by configuration", engagedNow: false };
  if (request.source === "manual") return { verdict: "bypass", reason: "started by an engineer: passes the brake", engagedNow: false };
  const at = now.toISOString();
  await store.putIfAbsent({
    pk: WINDOW_PK,
    sk: `${request.subjectId}#${request.sourceEventId}`,
    at,
    // DynamoDB TTL (epoch seconds): gone a day after it stops mattering.
    expiresAt: Math.floor(now.getTime() / 1000) + settings.windowMinutes * 60 + 86_400,
  });
  const state = await brakeState(store);
  if (state?.state === "ENGAGED") return { verdict: "hold", reason: `brake engaged since ${state.since} by ${state.by}: ${state.reason}`, engagedNow: false };
  const count = await windowCount(store, settings, now, state);
  const { limit, basis } = await limitInForce(store, settings);
  if (count <= limit) return { verdict: "pass", reason: `${count} in window, limit ${basis}`, engagedNow: false };
  const reason = `${count} departures or revocations within ${settings.windowMinutes} min exceed the limit (${basis})`;
  const engagedNow = await engage(store, { by: "automatic", reason, now });
  return { verdict: "hold", reason, engagedNow };
}

/** Engages the brake; false when it already was (the first engagement's reason stands). */
export async function engage(store: Store, input: { by: string; reason: string; now: Date }): Promise<boolean> {
  return store.tryUpdate({
    TableName: store.tableName,
    Key: STATE_KEY,
    UpdateExpression: "SET #state = :engaged, since = :now, #by = :by, reason = :reason",
    ConditionExpression: "attribute_not_exists(#state) OR #state <> :engaged",
    ExpressionAttributeNames: { "#state": "state", "#by": "by" },
    ExpressionAttributeValues: { ":engaged": "ENGAGED", ":now": input.now.toISOString(), ":by": input.by, ":reason": input.reason },
  });
}

/** Releases the brake (recorded with who and why); the caller then starts what was held. */
export async function release(store: Store, input: { by: string; reason: string; now: Date }): Promise<void> {
  const at = input.now.toISOString();
  await store.putItem({ ...STATE_KEY, state: "RELEASED", since: at, by: input.by, reason: input.reason, releasedAt: at });
}

export async function hold(store: Store, request: Omit<HeldRequest, "heldId" | "state">): Promise<HeldRequest> {
  const item: HeldRequest = { ...request, heldId: heldIdFor(request.subjectId, request.sourceEventId), state: "HELD" };
  // A replay of a held request keeps the first hold.
  await store.putIfAbsent({ pk: "HELD", sk: item.heldId, ...item });
  return HeldRequest.parse(await store.getItem("HELD", item.heldId));
}

export async function listHeld(store: Store, state?: HeldRequest["state"]): Promise<HeldRequest[]> {
  const items = (await store.queryPrefix("HELD", "")).map((i) => HeldRequest.parse(i));
  return (state ? items.filter((i) => i.state === state) : items).sort((a, b) => a.heldAt.localeCompare(b.heldAt));
}

/** Moves a HELD request to its decision once; false when someone else decided first. */
export async function decide(store: Store, heldId: string, decision: { state: "RELEASED" | "DISCARDED"; by: string; reason: string; now: Date }): Promise<boolean> {
  return store.tryUpdate({
    TableName: store.tableName,
    Key: { pk: "HELD", sk: heldId },
    UpdateExpression: "SET #state = :decision, decidedAt = :now, decidedBy = :by, decisionReason = :reason",
    ConditionExpression: "#state = :held",
    ExpressionAttributeNames: { "#state": "state" },
    ExpressionAttributeValues: { ":decision": decision.state, ":now": decision.now.toISOString(), ":by": decision.by, ":reason": decision.reason, ":held": "HELD" },
  });
}

/** What `revoke brake status` shows: the brake, the window against its limit, and what it holds. */
export async function brakeReport(store: Store, settings: BrakeSettings, now: Date) {
  const state = await brakeState(store);
  const { limit, basis } = await limitInForce(store, settings);
  const held = await listHeld(store);
  return {
    enabled: settings.enabled,
    state: state?.state ?? "RELEASED",
    since: state?.since,
    by: state?.by,
    reason: state?.reason,
    window: { minutes: settings.windowMinutes, count: await windowCount(store, settings, now, state), limit, basis },
    held: held.filter((h) => h.state === "HELD"),
    decided: held.filter((h) => h.state !== "HELD").length,
  };
}
export type BrakeReport = Awaited<ReturnType<typeof brakeReport>>;

/**
 * An engineer's release. Without ids: the brake disengages (later requests count afresh) and every held
 * request is released. With ids: only those are released and the brake stays as it is, for a wave that
 * is partly real. Returns the ids this call released (a request someone else decided first is not).
 */
export async function releaseHeldRequests(
  store: Store,
  input: { by: string; reason: string; now: Date; heldIds?: string[] },
): Promise<{ released: string[]; unknown: string[]; alreadyDecided: string[]; wasEngaged: boolean }> {
  const wasEngaged = (await brakeState(store))?.state === "ENGAGED";
  const targets = await chosenHeld(store, input.heldIds);
  if (!input.heldIds?.length) await release(store, input);
  const released: string[] = [];
  const alreadyDecided: string[] = [];
  for (const h of targets.found) {
    // Naming one already released asks for its start again (harmless: starts are idempotent); a discarded one stays discarded.
    if (h.state === "RELEASED" || (await decide(store, h.heldId, { state: "RELEASED", by: input.by, reason: input.reason, now: input.now }))) released.push(h.heldId);
    else alreadyDecided.push(h.heldId);
  }
  return { released, unknown: targets.unknown, alreadyDecided, wasEngaged };
}

/** Drops held requests (a bad feed): nothing starts, and each person held is back where they were. */
export async function discardHeldRequests(store: Store, input: { by: string; reason: string; now: Date; heldIds?: string[] }): Promise<{ discarded: string[]; unknown: string[]; alreadyDecided: string[] }> {
  const targets = await chosenHeld(store, input.heldIds);
  const discarded: string[] = [];
  const alreadyDecided: string[] = [];
  const departed = new Set<string>();
  for (const h of targets.found) {
    if (!(await decide(store, h.heldId, { state: "DISCARDED", by: input.by, reason: input.reason, now: input.now }))) {
      alreadyDecided.push(h.heldId);
      continue;
    }
    discarded.push(h.heldId);
    if (h.kind === "departure") departed.add(h.subjectId);
    else {
      const runName = (await store.listRuns(h.subjectId)).find((r) => r.status === "HELD" && r.trigger.sourceEventId === h.sourceEventId)?.runName;
      if (runName) await store.putItem({ ...(await store.getItem(`SUBJECT#${h.subjectId}`, `RUN#${runName}`)), status: "DISCARDED", completedAt: input.now.toISOString(), summary: `discarded by ${input.by}: ${input.reason}` });
    }
  }
  // A person is back to their status only when no other report of their departure is still held (read
  // once, after the discards, not once per request: a discarded wave can be thousands).
  if (departed.size) {
    const stillHeld = new Set((await listHeld(store, "HELD")).filter((o) => o.kind === "departure").map((o) => o.subjectId));
    for (const subjectId of departed) if (!stillHeld.has(subjectId)) await store.unholdSubject(subjectId);
  }
  return { discarded, unknown: targets.unknown, alreadyDecided };
}

async function chosenHeld(store: Store, heldIds?: string[]): Promise<{ found: HeldRequest[]; unknown: string[] }> {
  const all = await listHeld(store);
  if (!heldIds?.length) return { found: all.filter((h) => h.state === "HELD"), unknown: [] };
  const byId = new Map(all.map((h) => [h.heldId, h]));
  return { found: heldIds.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])), unknown: heldIds.filter((id) => !byId.has(id)) };
}
