import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { HR_TERMINATION_TYPE } from "../functions/normalize/hr";

export interface DemoApp {
  id: string;
  name: string;
  oktaInstanceId: string;
  tokenEnv: string;
}

const FIXTURES = resolve(import.meta.dirname, "../test/fixtures");

type Json = Record<string, unknown>;

/** A stable uuid-shaped id from a seed, so the demo's derived events are the same on every run. */
function derivedUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The demo's inputs, built from the real vendor payloads in test/fixtures: the Okta SSO event
 * (demisto/content) as delivered by an Event Hook (envelope from Okta's docs) for the first app, and
 * the same kind of event for the second app, re-targeted to its instance and delivered through Log
 * Streaming (envelope from aws-samples). Then a generic HR termination for the same person.
 */
export function buildDemoPayloads(apps: DemoApp[], read: (path: string, enc: "utf8") => string) {
  const ssoLine = read(join(FIXTURES, "okta/system-log-events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: Json })
    .find((r) => r.event.eventType === "user.authentication.sso");
  if (!ssoLine) throw new Error("fixture okta/system-log-events.jsonl has no user.authentication.sso event");
  const hookEnvelope = (JSON.parse(read(join(FIXTURES, "okta/event-hook-deliveries.json"), "utf8")) as Array<{ body: Json }>)[0]!.body;
  const streamEnvelope = (JSON.parse(read(join(FIXTURES, "okta/eventbridge-log-streaming.json"), "utf8")) as { events: Json[] }).events[0]!;

  const sso = ssoLine.event;
  const actor = sso.actor as Json;
  const email = String(actor.alternateId);
  const ssoInto = (app: DemoApp, index: number): Json => {
    const event = structuredClone(sso);
    event.uuid = index === 0 ? sso.uuid : derivedUuid(`${String(sso.uuid)}:${app.id}`);
    event.published = new Date(Date.parse(String(sso.published)) + index * 120_000).toISOString();
    event.target = (sso.target as Json[]).map((t) => (t.type === "AppInstance" ? { ...t, id: app.oktaInstanceId, alternateId: app.name, displayName: app.name } : t));
    return event;
  };
  const accountName = String(((sso.target as Json[]).find((t) => t.type === "AppUser") ?? actor).alternateId);

  const arrivals = apps.map((app, i) => {
    const event = ssoInto(app, i);
    const viaHook = i % 2 === 0;
    const body = viaHook
      ? { ...structuredClone(hookEnvelope), eventId: derivedUuid(`delivery:${app.id}`), data: { events: [event] } }
      : { ...structuredClone(streamEnvelope), id: derivedUuid(`stream:${app.id}`), time: event.published, detail: event };
    return { appId: app.id, accountName, via: viaHook ? "Event Hook delivery" : "Log Streaming (EventBridge)", body };
  });

  // Effective now (HR systems send a date or a timestamp): "access survived" then measures the pipeline.
  const termination = {
    type: HR_TERMINATION_TYPE,
    eventId: `demo-termination-${derivedUuid(email).slice(0, 8)}`,
    employeeId: 1001,
    email: email.toUpperCase(),
    effectiveDate: new Date().toISOString(),
    reason: "resignation",
  };
  return { email: email.toLowerCase(), oktaId: String(actor.id), arrivals, termination };
}
