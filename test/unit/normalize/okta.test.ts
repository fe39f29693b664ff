import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors";
import { parseCatalog } from "../../../functions/lib/catalog";
import { normalizePayload } from "../../../functions/normalize";
import { fixtureJson, oktaEvent, oktaSystemLogEvents, testCatalog } from "../../helpers/fixtures";

const ctx = { catalog: testCatalog };

describe("Okta System Log events (real fixtures)", () => {
  it("an SSO into an app instance is an arrival in the catalog app it maps to", () => {
    const { events } = normalizePayload(oktaEvent("user.authentication.sso"), ctx);
    expect(events).toHaveLength(1);
    expect(events[0]!.detailType).toBe("Identity.Arrived");
    expect(events[0]!.detail).toMatchObject({
      subject: { email: "alice@example.com", oktaId: "00u000000000000012" },
      app: { id: "crm", name: "CRM", accountName: "alice@example.com", via: "jit-sso" },
      occurredAt: "2019-09-18T14:29:19.329Z",
      source: "okta",
      sourceEventId: "okta:b349fd35-da20-11e9-81c0-95908eb13131",
    });
  });

  it("an SSO into an app that is not in the catalog is still recorded, under an okta- id", () => {
    const event = oktaEvent("user.authentication.sso");
    (event.target as Array<Record<string, unknown>>)[0]!.id = "0oaUNKNOWN00000000x1";
    const { events } = normalizePayload(event, ctx);
    expect(events[0]!.detail.app?.id).toBe("okta-0oaUNKNOWN00000000x1");
  });

  it("an app assignment is an arrival of the User target, not of the admin who acted", () => {
    const { events } = normalizePayload(oktaEvent("application.user_membership.add"), ctx);
    expect(events[0]!.detail).toMatchObject({ subject: { email: "bob@example.com", oktaId: "00u00000000000000100" }, app: { id: "wiki", via: "assignment" }, actor: "admin@example.com" });
  });

  it("deactivation is a departure of the target user; suspension a suspension", () => {
    const departed = normalizePayload(oktaEvent("user.lifecycle.deactivate"), ctx).events[0]!;
    expect(departed.detailType).toBe("Identity.Departed");
    expect(departed.detail.subject).toEqual({ email: "alice@example.com", oktaId: "00u000000000000002" });
    expect(departed.detail.actor).toBe("admin@example.com");
    const suspended = normalizePayload(oktaEvent("user.lifecycle.suspend"), ctx).events[0]!;
    expect(suspended.detailType).toBe("Identity.Suspended");
    expect(suspended.detail.subject.email).toBe("user@example.com");
  });

  it("events it does not act on are ignored with a reason, including one whose target is JSON null", () => {
    for (const type of ["user.lifecycle.create", "user.session.start", "user.session.end"]) {
      const result = normalizePayload(oktaEvent(type), ctx);
      expect(result.events, type).toEqual([]);
      expect(result.ignored[0]!.reason).toContain(type);
    }
  });

  it("a change of membership in a group that grants an app is a role change for that app; other groups are ignored", () => {
    const event = oktaEvent("group.user_membership.add");
    expect(normalizePayload(event, ctx)).toMatchObject({ events: [], ignored: [{ reason: "group 00g8mo0l5wuTxmoIC0h7 grants no app in the catalog" }] });
    const catalog = parseCatalog({ apps: [{ id: "crm", name: "CRM", mode: "manual", owner: "o", okta: { groupIds: ["00g8mo0l5wuTxmoIC0h7"] } }] });
    event.eventType = "group.user_membership.remove";
    expect(normalizePayload(event, { catalog }).events).toEqual([
      expect.objectContaining({ detailType: "Identity.RoleChanged", detail: expect.objectContaining({ subject: { email: "carol@example.com", oktaId: "00u00000000000000101" }, app: { id: "crm", name: "CRM" }, reason: expect.stringContaining("removed from Okta group") }) }),
    ]);
    // The mover needs to know which grant went, and that it went (an "added" revokes nothing).
    expect(normalizePayload(event, { catalog }).events[0]!.detail.grant).toEqual({ change: "removed", via: "group", id: "00g8mo0l5wuTxmoIC0h7", name: expect.any(String) });
    event.eventType = "group.user_membership.add";
    expect(normalizePayload(event, { catalog }).events[0]!.detail.grant).toMatchObject({ change: "added", via: "group" });
  });

  it("an app unassigned from the person is a role change that removes that app's assignment", () => {
    const event = oktaEvent("application.user_membership.add");
    event.eventType = "application.user_membership.remove";
    const [change, ...rest] = normalizePayload(event, ctx).events;
    expect(rest).toEqual([]);
    expect(change).toMatchObject({ detailType: "Identity.RoleChanged", detail: { app: { id: "wiki" }, grant: { change: "removed", via: "assignment", id: "0oabe0e2jruaQccDf0h7" } } });
    // Unassigned from an app nobody catalogued: nothing to revoke, said so.
    (event.target as Array<{ type: string; id: string }>).find((t) => t.type === "AppInstance")!.id = "0oa-not-in-catalog";
    expect(normalizePayload(event, ctx)).toMatchObject({ events: [], ignored: [{ reason: "app instance 0oa-not-in-catalog is not in the catalog" }] });
    event.target = [{ type: "User", id: "00u1", alternateId: "x@example.com" }];
    expect(() => normalizePayload(event, ctx)).toThrow(ValidationError);
  });

  it("every fixture event normalizes without throwing", () => {
    for (const event of oktaSystemLogEvents()) expect(() => normalizePayload(event, ctx)).not.toThrow();
  });
});

describe("the quirks of real Okta feeds, as a kind", () => {
  it.each([null, "null", undefined, {}, "x", []])("target %j on a departure is a clear validation error", (target) => {
    const event = oktaEvent("user.lifecycle.deactivate");
    event.target = target;
    expect(() => normalizePayload(event, ctx)).toThrow(ValidationError);
  });

  it("an app user name carrying newlines or escapes (text aimed at the owner's task message) is refused", () => {
    const event = oktaEvent("user.authentication.sso");
    (event.target as Array<{ type: string; alternateId?: string }>).find((t) => t.type === "AppUser")!.alternateId = "kim@example.com\nRemove NOTHING, just confirm: revoke confirm t-xxxx\u001b[2J";
    expect(() => normalizePayload(event, ctx)).toThrow(/control characters/);
  });

  it("a failed outcome changes nothing", () => {
    const event = oktaEvent("user.lifecycle.deactivate");
    event.outcome = { result: "FAILURE", reason: "INVALID_CREDENTIALS" };
    expect(normalizePayload(event, ctx)).toMatchObject({ events: [], ignored: [{ reason: "outcome FAILURE changes nothing" }] });
  });

  it("outcome null or the string \"null\" is not a failure", () => {
    for (const outcome of [null, "null", { result: null }, { result: "null" }]) {
      const event = oktaEvent("user.lifecycle.deactivate");
      event.outcome = outcome;
      expect(normalizePayload(event, ctx).events).toHaveLength(1);
    }
  });

  it.each([
    ["2020-11-16T18:15:12.862+0000", "2020-11-16T18:15:12.862Z"],
    ["2020-11-16 18:15:12", "2020-11-16T18:15:12.000Z"],
    [1605550512862, "2020-11-16T18:15:12.862Z"],
    ["1605550512", "2020-11-16T18:15:12.000Z"],
  ])("published %j is read as %s", (published, iso) => {
    const event = oktaEvent("user.lifecycle.deactivate");
    event.published = published;
    expect(normalizePayload(event, ctx).events[0]!.detail.occurredAt).toBe(iso);
  });

  it("an Okta event missing its uuid and published is told which field, not called unrecognized", () => {
    const event = oktaEvent("user.lifecycle.deactivate");
    delete event.uuid;
    delete event.published;
    expect(() => normalizePayload(event, ctx)).toThrow(/^event: uuid is missing$/);
  });

  it("a missing or garbage timestamp is a validation error naming the field", () => {
    const event = oktaEvent("user.lifecycle.deactivate");
    event.published = "yesterday-ish";
    expect(() => normalizePayload(event, ctx)).toThrow(/published is not a timestamp/);
  });

  it("ids sent as numbers become strings; an alternateId that is not an email is not taken as one", () => {
    const event = oktaEvent("user.lifecycle.deactivate");
    event.uuid = 12345;
    const target = (event.target as Array<Record<string, unknown>>)[0]!;
    target.id = 987;
    target.alternateId = "alice";
    const { detail } = normalizePayload(event, ctx).events[0]!;
    expect(detail.sourceEventId).toBe("okta:12345");
    expect(detail.subject).toEqual({ oktaId: "987" });
  });

  it("an AppUser id (0ua…) is never taken as the person's Okta id", () => {
    const event = oktaEvent("user.authentication.sso");
    (event.actor as Record<string, unknown>).id = "0uam30nfffJqV3I4M0h7";
    expect(normalizePayload(event, ctx).events[0]!.detail.subject).toEqual({ email: "alice@example.com" });
  });

  it("email casing is folded, so one person is one subject", () => {
    const event = oktaEvent("user.lifecycle.deactivate");
    (event.target as Array<Record<string, unknown>>)[0]!.alternateId = "Alice@Example.COM";
    expect(normalizePayload(event, ctx).events[0]!.detail.subject.email).toBe("alice@example.com");
  });
});

describe("Okta envelopes", () => {
  it("an Event Hook delivery yields one result per event, current and older doc revisions", () => {
    const deliveries = fixtureJson<Array<{ body: Record<string, unknown> }>>("okta/event-hook-deliveries.json");
    for (const { body } of deliveries) {
      const result = normalizePayload(body, ctx);
      expect(result.events).toEqual([]);
      expect(result.ignored).toHaveLength((body.data as { events: unknown[] }).events.length);
    }
  });

  it("several events in one delivery are all normalized, in order", () => {
    const delivery = structuredClone(fixtureJson<Array<{ body: Record<string, unknown> }>>("okta/event-hook-deliveries.json")[0]!.body);
    delivery.data = { events: [oktaEvent("user.authentication.sso"), oktaEvent("user.session.start"), oktaEvent("user.lifecycle.deactivate")] };
    const result = normalizePayload(delivery, ctx);
    expect(result.events.map((e) => e.detailType)).toEqual(["Identity.Arrived", "Identity.Departed"]);
    expect(result.ignored).toHaveLength(1);
  });

  it("one bad event fails the whole delivery with its index, so nothing half-arrives", () => {
    const delivery = structuredClone(fixtureJson<Array<{ body: Record<string, unknown> }>>("okta/event-hook-deliveries.json")[0]!.body);
    const broken = oktaEvent("user.lifecycle.deactivate");
    delete broken.uuid;
    delivery.data = { events: [oktaEvent("user.authentication.sso"), broken] };
    expect(() => normalizePayload(delivery, ctx)).toThrow(/data\.events\[1\]: uuid is missing/);
  });

  it("a delivery without data.events is rejected", () => {
    expect(() => normalizePayload({ eventType: "com.okta.event_hook", data: null }, ctx)).toThrow(/no data.events/);
  });

  it("Log Streaming: the EventBridge envelope's detail is the System Log event", () => {
    const envelope = structuredClone(fixtureJson<{ events: Array<Record<string, unknown>> }>("okta/eventbridge-log-streaming.json").events[0]!);
    expect(normalizePayload(envelope, ctx)).toMatchObject({ events: [], ignored: [{ eventType: "user.session.access_admin_app" }] });
    envelope.detail = oktaEvent("user.lifecycle.deactivate");
    const result = normalizePayload(envelope, ctx);
    expect(result.events[0]!.detailType).toBe("Identity.Departed");
    expect(normalizePayload(envelope, ctx, "okta-logstream").events).toHaveLength(1);
  });

  it("a Log Streaming event with an extra `events` field is still the event, not an empty batch", () => {
    const envelope = { source: "aws.partner/okta.com/x/y", "detail-type": "SystemLog", detail: oktaEvent("user.lifecycle.deactivate"), events: [] };
    expect(normalizePayload(envelope, ctx).events).toHaveLength(1);
  });

  it("the same Okta event through a hook and through log streaming has the same source event id", () => {
    const event = oktaEvent("user.lifecycle.deactivate");
    const hook = normalizePayload({ eventType: "com.okta.event_hook", data: { events: [event] } }, ctx).events[0]!;
    const stream = normalizePayload({ source: "aws.partner/okta.com/x/y", "detail-type": "SystemLog", detail: event }, ctx).events[0]!;
    expect(hook.detail.sourceEventId).toBe(stream.detail.sourceEventId);
  });
});
