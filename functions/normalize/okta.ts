import { appForOktaInstance, appsGrantedByOktaGroup } from "../lib/catalog";
import { ValidationError } from "../lib/errors";
import { DetailType } from "../lib/events";
import { toIsoTimestamp } from "../lib/time";
import { canonical, emailOrUndefined, idString, isRecord, type Normalized, type NormalizeContext, present } from "./types";

/**
 * Okta System Log events, alone, batched in an Event Hook delivery (`data.events[]`), or wrapped in
 * the EventBridge envelope of Okta Log Streaming. The three carry the same event object.
 */

export const OKTA_PARTNER_SOURCE_PREFIX = "aws.partner/okta.com/";

export function isOktaHookDelivery(body: unknown): boolean {
  return isRecord(body) && body.eventType === "com.okta.event_hook";
}

export function isOktaLogStreamEnvelope(body: unknown): boolean {
  return isRecord(body) && typeof body.source === "string" && body.source.startsWith(OKTA_PARTNER_SOURCE_PREFIX) && "detail" in body;
}

/** Loose on purpose: a System Log event missing its uuid should be told so, not called unrecognized. */
export function isOktaSystemLogEvent(body: unknown): boolean {
  return isRecord(body) && typeof body.eventType === "string" && body.eventType.includes(".") && ["uuid", "published", "actor", "target", "outcome"].some((k) => k in body);
}

export function normalizeOktaHookDelivery(body: unknown, ctx: NormalizeContext): Normalized {
  if (!isOktaHookDelivery(body)) throw new ValidationError("not an Okta event hook delivery (eventType must be com.okta.event_hook)");
  const data = (body as Record<string, unknown>).data;
  const events = isRecord(data) ? data.events : undefined;
  if (!Array.isArray(events)) throw new ValidationError("Okta event hook delivery has no data.events array");
  return mergeAll(events.map((event, i) => normalizeOktaEvent(event, ctx, `data.events[${i}]`)));
}

export function normalizeOktaLogStream(body: unknown, ctx: NormalizeContext): Normalized {
  // A batch is an array, or a wrapper {events: […]} that is not itself an event (has no detail).
  const batch = Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.events) && !("detail" in body) ? body.events : [body];
  return mergeAll(
    batch.map((envelope, i) => {
      if (!isOktaLogStreamEnvelope(envelope)) {
        throw new ValidationError(`events[${i}]: not an Okta log streaming event (source must start with ${OKTA_PARTNER_SOURCE_PREFIX})`);
      }
      const e = envelope as Record<string, unknown>;
      if (e["detail-type"] !== "SystemLog") {
        return { events: [], ignored: [{ reason: `detail-type ${String(e["detail-type"])} is not SystemLog` }] };
      }
      return normalizeOktaEvent(e.detail, ctx, `events[${i}].detail`);
    }),
  );
}

const ARRIVAL_TYPES = new Set(["user.authentication.sso", "application.user_membership.add"]);
const DEPARTURE_TYPES = new Set(["user.lifecycle.deactivate", "user.lifecycle.delete.initiated"]);
const SUSPENSION_TYPES = new Set(["user.lifecycle.suspend"]);
const GROUP_TYPES = new Set(["group.user_membership.add", "group.user_membership.remove"]);
/** Unassigning an app (directly) is a role change: the app may go, the person stays. */
const UNASSIGN_TYPES = new Set(["application.user_membership.remove"]);

export function normalizeOktaEvent(event: unknown, ctx: NormalizeContext, where = "event"): Normalized {
  if (!isRecord(event)) throw new ValidationError(`${where}: an Okta System Log event must be an object`);
  const eventType = event.eventType;
  if (typeof eventType !== "string" || !eventType) throw new ValidationError(`${where}: eventType is missing`);
  const uuid = idString(event.uuid);
  if (!uuid) throw new ValidationError(`${where}: uuid is missing`);
  const sourceEventId = `okta:${uuid}`;
  const acted = ARRIVAL_TYPES.has(eventType) || DEPARTURE_TYPES.has(eventType) || SUSPENSION_TYPES.has(eventType) || GROUP_TYPES.has(eventType) || UNASSIGN_TYPES.has(eventType);
  if (!acted) return { events: [], ignored: [{ sourceEventId, eventType, reason: `event type ${eventType} is not acted on` }] };

  const outcome = isRecord(event.outcome) ? event.outcome.result : undefined;
  if (present(outcome) && typeof outcome !== "string") throw new ValidationError(`${where}: outcome.result must be a string (SUCCESS, FAILURE, …)`);
  if (present(outcome) && outcome !== "SUCCESS") {
    return { events: [], ignored: [{ sourceEventId, eventType, reason: `outcome ${String(outcome)} changes nothing` }] };
  }
  const occurredAt = toIsoTimestamp(event.published, `${where}.published`);
  const targets = targetsOf(event.target);
  const actor = isRecord(event.actor) ? event.actor : {};
  const actorName = idString(actor.alternateId) ?? idString(actor.id);

  if (ARRIVAL_TYPES.has(eventType)) {
    const instance = targets.find((t) => t.type === "AppInstance");
    if (!instance?.id) throw new ValidationError(`${where}: ${eventType} has no AppInstance target`);
    const appUser = targets.find((t) => t.type === "AppUser");
    // SSO: the actor is the person. Assignment: an admin acts and the User target is the person.
    const person = eventType === "user.authentication.sso" ? { id: idString(actor.id), alternateId: idString(actor.alternateId), type: actor.type } : targets.find((t) => t.type === "User");
    if (!person) throw new ValidationError(`${where}: ${eventType} names no user`);
    const mapped = appForOktaInstance(ctx.catalog, instance.id);
    return {
      events: [
        canonical(
          DetailType.Arrived,
          {
            subject: oktaSubject(person.id, person.alternateId ?? appUser?.alternateId),
            app: {
              id: mapped?.id ?? `okta-${instance.id}`,
              name: mapped?.name ?? instance.displayName ?? instance.alternateId,
              accountName: appUser?.alternateId ?? person.alternateId,
              via: eventType === "user.authentication.sso" ? "jit-sso" : "assignment",
            },
            occurredAt,
            source: "okta",
            sourceEventId,
            reason: eventType === "user.authentication.sso" ? "first SSO into the app (JIT)" : "app assignment",
            actor: actorName,
          },
          where,
        ),
      ],
      ignored: [],
    };
  }

  const user = targets.find((t) => t.type === "User");
  if (!user) throw new ValidationError(`${where}: ${eventType} has no User target`);

  if (GROUP_TYPES.has(eventType)) {
    const group = targets.find((t) => t.type === "UserGroup");
    if (!group?.id) throw new ValidationError(`${where}: ${eventType} has no UserGroup target`);
    const granted = appsGrantedByOktaGroup(ctx.catalog, group.id);
    if (granted.length === 0) return { events: [], ignored: [{ sourceEventId, eventType, reason: `group ${group.id} grants no app in the catalog` }] };
    const verb = eventType.endsWith(".add") ? "added to" : "removed from";
    return {
      events: granted.map((app) =>
        canonical(
          DetailType.RoleChanged,
          {
            subject: oktaSubject(user.id, user.alternateId),
            app: { id: app.id, name: app.name },
            occurredAt,
            source: "okta",
            sourceEventId: `${sourceEventId}:${app.id}`,
            reason: `${verb} Okta group ${group.displayName ?? group.id}`,
            actor: actorName,
            grant: { change: eventType.endsWith(".add") ? "added" : "removed", via: "group", id: group.id, name: group.displayName },
          },
          where,
        ),
      ),
      ignored: [],
    };
  }
  if (UNASSIGN_TYPES.has(eventType)) {
    const instance = targets.find((t) => t.type === "AppInstance");
    if (!instance?.id) throw new ValidationError(`${where}: ${eventType} has no AppInstance target`);
    const app = appForOktaInstance(ctx.catalog, instance.id);
    if (!app) return { events: [], ignored: [{ sourceEventId, eventType, reason: `app instance ${instance.id} is not in the catalog` }] };
    return {
      events: [
        canonical(
          DetailType.RoleChanged,
          {
            subject: oktaSubject(user.id, user.alternateId),
            app: { id: app.id, name: app.name },
            occurredAt,
            source: "okta",
            sourceEventId,
            reason: `unassigned from Okta app ${instance.displayName ?? instance.id}`,
            actor: actorName,
            grant: { change: "removed", via: "assignment", id: instance.id, name: instance.displayName },
          },
          where,
        ),
      ],
      ignored: [],
    };
  }
  const detailType = DEPARTURE_TYPES.has(eventType) ? DetailType.Departed : DetailType.Suspended;
  return {
    events: [
      canonical(
        detailType,
        {
          subject: oktaSubject(user.id, user.alternateId),
          occurredAt,
          source: "okta",
          sourceEventId,
          reason: `Okta ${eventType}`,
          actor: actorName,
        },
        where,
      ),
    ],
    ignored: [],
  };
}

interface Target {
  id?: string;
  type?: unknown;
  alternateId?: string;
  displayName?: string;
}

/** `target` is an array, or null, "null" or absent when an event has none. */
function targetsOf(raw: unknown): Target[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((t) => ({
    id: idString(t.id),
    type: t.type,
    alternateId: present(t.alternateId) && t.alternateId !== "unknown" ? idString(t.alternateId) : undefined,
    displayName: idString(t.displayName),
  }));
}

function oktaSubject(oktaId: string | undefined, alternateId: string | undefined) {
  // Okta user ids start with 00u; AppUser ids (0ua…) are per-app and must not become the person's id.
  return { oktaId: oktaId && !oktaId.startsWith("0ua") ? oktaId : undefined, email: emailOrUndefined(alternateId) };
}

export function mergeAll(parts: Normalized[]): Normalized {
  return { events: parts.flatMap((p) => p.events), ignored: parts.flatMap((p) => p.ignored) };
}
