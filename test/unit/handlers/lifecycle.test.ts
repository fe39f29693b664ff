import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { brakeReport, brakeState, discardHeldRequests, engage, listHeld, RELEASED_NOTE, releaseHeldRequests } from "../../../functions/lib/brake";
import { type Catalog, parseCatalog } from "../../../functions/lib/catalog";
import { IdentityDetail } from "../../../functions/lib/events";
import { expiryFor, parseUntil, reminderDue, stillEnds } from "../../../functions/lib/expiry";
import type { Notification } from "../../../functions/lib/notifier";
import type { OffboardInput } from "../../../functions/lib/runs";
import type { Store } from "../../../functions/lib/store";
import { expireAccounts } from "../../../functions/expire-accounts/expire-accounts";
import { handleRoleChange } from "../../../functions/mover/mover";
import { oktaGrantCheck } from "../../../functions/mover/remaining-grants";
import { recordArrival } from "../../../functions/record-arrival/record-arrival";
import { releaseHeld } from "../../../functions/release-held/release-held";
import { startOffboarding } from "../../../functions/start-offboarding/start-offboarding";
import type { LocalDynamo } from "../../../local/dynamo";
import { OktaStandIn } from "../../../local/idp-standins";
import { envelope, testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
const okta = new OktaStandIn("lifecycle-okta-token");
let clock = new Date("2026-12-03T12:00:00Z");
const now = () => clock;

const started: Array<{ name: string; input: OffboardInput }> = [];
const published: Array<{ detailType: string; detail: unknown }> = [];
const sent: Notification[] = [];
const deps = (catalog: Catalog) => ({
  store,
  catalog,
  now,
  startExecution: async (name: string, input: OffboardInput) => void started.push({ name, input }),
  publish: async (entries: Array<{ detailType: string; detail: unknown }>) => void published.push(...entries),
});

const catalogWith = (extra: Record<string, unknown> = {}) =>
  parseCatalog({
    idp: { okta: { orgUrl: okta.baseUrl, auth: { type: "api-token", tokenRef: "LIFECYCLE_OKTA_TOKEN" } } },
    apps: [
      { id: "crm", name: "CRM", mode: "scim", owner: "crm-owner@example.com", scim: { baseUrl: "http://127.0.0.1:1/scim/v2", tokenRef: "T" }, okta: { groupIds: ["00g-sales", "00g-crm-admins"], appInstanceIds: ["0oa-crm"] } },
      { id: "admin", name: "Admin console", mode: "scim", owner: "sec@example.com", privileged: true, scim: { baseUrl: "http://127.0.0.1:1/scim/v2", tokenRef: "T" } },
      { id: "lab", name: "Lab", mode: "manual", owner: "lab@example.com", maxAccessDays: 14 },
      { id: "wiki", name: "Wiki", mode: "manual", owner: "wiki@example.com" },
    ],
    ...extra,
  });

beforeAll(async () => {
  ({ store, dynamo } = await testStore());
  process.env.LIFECYCLE_OKTA_TOKEN = "lifecycle-okta-token";
  await okta.start();
});
afterAll(async () => {
  await okta.stop();
  await dynamo.close();
});
beforeEach(() => {
  started.length = 0;
  published.length = 0;
  sent.length = 0;
  clock = new Date("2026-12-03T12:00:00Z");
});

const arrive = (catalog: Catalog, email: string, appId: string, extra: Record<string, unknown> = {}) =>
  recordArrival(envelope("Identity.Arrived", { subject: { email }, app: { id: appId }, occurredAt: clock.toISOString(), source: "okta", sourceEventId: `okta:${email}:${appId}`, ...extra }), deps(catalog));
const roleChange = (email: string, appId: string, grant: Record<string, unknown>, sourceEventId: string) =>
  envelope("Identity.RoleChanged", { subject: { email }, app: { id: appId }, occurredAt: clock.toISOString(), source: "okta", sourceEventId, reason: "moved to support", grant });

describe("movers keep only what their new role grants", () => {
  const removedFrom = (group: string) => ({ change: "removed", via: "group", id: group });

  it("leaving one granting group while another still grants the app keeps the account; leaving the last revokes only that app", async () => {
    const catalog = catalogWith();
    const email = "mia@example.com";
    const user = okta.addUser("00u-mia", email);
    user.groupIds = ["00g-sales", "00g-crm-admins", "00g-everyone"];
    await arrive(catalog, email, "crm");
    await arrive(catalog, email, "wiki");
    const withDeps = { ...deps(catalog), remainingGrants: oktaGrantCheck(catalog) };

    user.groupIds = ["00g-crm-admins", "00g-everyone"];
    const kept = await handleRoleChange(roleChange(email, "crm", removedFrom("00g-sales"), "okta:m1:crm"), withDeps);
    expect(kept).toMatchObject({ action: "kept", grantedBy: ["group 00g-crm-admins"] });
    expect(started).toEqual([]);

    user.groupIds = ["00g-everyone"];
    const revoked = await handleRoleChange(roleChange(email, "crm", removedFrom("00g-crm-admins"), "okta:m2:crm"), withDeps);
    expect(revoked.action).toBe("started");
    expect(started).toHaveLength(1);
    expect(started[0]!.input).toMatchObject({ action: "revoke-apps", appIds: ["crm"], trigger: { source: "okta", reason: "moved to support; nothing else grants crm" } });
    // The person stays: no front door, no other app, still ACTIVE.
    const profile = await store.findSubject({ email });
    expect(profile?.status).toBe("ACTIVE");

    // Okta redelivers; the run is named after the event, so no second run can start (a start by the same
    // name is repeated, in case the first died before it, and Step Functions refuses it as a duplicate).
    expect((await handleRoleChange(roleChange(email, "crm", removedFrom("00g-crm-admins"), "okta:m2:crm"), withDeps)).action).toBe("duplicate");
    expect(new Set(started.map((s) => s.name)).size).toBe(1);
  });

  it("a group removal processed after the person was added back (out of order) keeps the account: the IdP is asked, not the event", async () => {
    const catalog = catalogWith();
    const email = "ole@example.com";
    okta.addUser("00u-ole", email).groupIds = ["00g-sales"];
    await arrive(catalog, email, "crm");
    const out = await handleRoleChange(roleChange(email, "crm", removedFrom("00g-sales"), "okta:o1:crm"), { ...deps(catalog), remainingGrants: oktaGrantCheck(catalog) });
    expect(out).toMatchObject({ action: "kept", grantedBy: ["group 00g-sales"] });
  });

  it("a direct assignment that remains keeps the app; access added, unknown people, departed people and closed accounts start nothing", async () => {
    const catalog = catalogWith();
    const email = "pia@example.com";
    okta.addUser("00u-pia", email).appInstanceIds = ["0oa-crm"];
    await arrive(catalog, email, "crm");
    const withDeps = { ...deps(catalog), remainingGrants: oktaGrantCheck(catalog) };
    expect(await handleRoleChange(roleChange(email, "crm", removedFrom("00g-sales"), "okta:p1"), withDeps)).toMatchObject({ action: "kept", grantedBy: ["assignment to 0oa-crm"] });
    expect(await handleRoleChange(roleChange(email, "crm", { change: "added", via: "group", id: "00g-sales" }, "okta:p2"), withDeps)).toMatchObject({ action: "ignored" });
    expect(await handleRoleChange(roleChange("nobody@example.com", "crm", removedFrom("00g-sales"), "okta:p3"), withDeps)).toMatchObject({ action: "ignored", reason: expect.stringContaining("nobody") });
    expect(await handleRoleChange(roleChange(email, "wiki", removedFrom("00g-sales"), "okta:p4"), withDeps)).toMatchObject({ action: "ignored", reason: "no account recorded in this app" });
    const { subjectId } = (await store.findSubject({ email }))!;
    await store.setAccountState(subjectId, "crm", { state: "REVOKED", revokedAt: clock.toISOString() });
    expect(await handleRoleChange(roleChange(email, "crm", removedFrom("00g-sales"), "okta:p5"), withDeps)).toMatchObject({ action: "ignored", reason: "the account is already REVOKED" });
    expect(started).toEqual([]);
  });

  it("without an Okta API to ask, a removed grant revokes (a JIT account comes back at the next sign-in; a kept one is the gap)", async () => {
    const catalog = catalogWith({ idp: {} });
    const email = "quin@example.com";
    await arrive(catalog, email, "crm");
    const out = await handleRoleChange(roleChange(email, "crm", removedFrom("00g-sales"), "okta:q1"), { ...deps(catalog), remainingGrants: oktaGrantCheck(catalog) });
    expect(out.action).toBe("started");
    expect(started[0]!.input.trigger.reason).toContain("remaining grants not checked");
  });

  it("Okta's group list is followed across its Link pages", async () => {
    const catalog = catalogWith();
    const email = "rui@example.com";
    // The stand-in pages two at a time: the granting group is on the third page.
    okta.addUser("00u-rui", email).groupIds = ["00g-a", "00g-b", "00g-c", "00g-d", "00g-crm-admins"];
    await arrive(catalog, email, "crm");
    const out = await handleRoleChange(roleChange(email, "crm", removedFrom("00g-sales"), "okta:r1"), { ...deps(catalog), remainingGrants: oktaGrantCheck(catalog) });
    expect(out).toMatchObject({ action: "kept", grantedBy: ["group 00g-crm-admins"] });
  });
});

describe("timed expiry", () => {
  it("an end date is the earliest of the arrival's own, the app's time box and the privileged default, and needs an owner", () => {
    const catalog = catalogWith();
    const app = (id: string) => catalog.apps.find((a) => a.id === id);
    const start = "2026-12-03T12:00:00.000Z";
    expect(expiryFor({ occurredAt: start }, app("crm"), catalog.expiry)).toBeUndefined();
    expect(expiryFor({ occurredAt: start }, app("admin"), catalog.expiry)).toEqual({ expiresAt: "2027-01-02T12:00:00.000Z", owner: "sec@example.com", privileged: true, basis: "privileged accounts end after 30 days" });
    expect(expiryFor({ occurredAt: start }, app("lab"), catalog.expiry)).toMatchObject({ expiresAt: "2026-12-17T12:00:00.000Z", basis: "lab grants at most 14 days" });
    // A contractor's own end date wins when it comes first; a later one is cut to the privileged default.
    expect(expiryFor({ occurredAt: start, expiresAt: "2026-12-10T00:00:00Z", owner: "mgr@example.com" }, app("admin"), catalog.expiry)).toMatchObject({ expiresAt: "2026-12-10T00:00:00.000Z", owner: "mgr@example.com" });
    expect(expiryFor({ occurredAt: start, expiresAt: "2027-06-01T00:00:00Z", owner: "mgr@example.com" }, app("admin"), catalog.expiry)).toMatchObject({ expiresAt: "2027-01-02T12:00:00.000Z" });
    // An app not in the catalog has no owner to fall back on: only the arrival's own owner can own it.
    expect(expiryFor({ occurredAt: start, privileged: true }, undefined, catalog.expiry)).toBeUndefined();
    expect(expiryFor({ occurredAt: start, privileged: true, owner: "mgr@example.com" }, undefined, catalog.expiry)).toMatchObject({ privileged: true, owner: "mgr@example.com" });
    expect(expiryFor({ occurredAt: start, privileged: true }, app("wiki"), catalog.expiry)).toMatchObject({ privileged: true, owner: "wiki@example.com" });
  });

  it("an arrival with an end date and no owner is refused", () => {
    const detail = { subject: { email: "x@example.com" }, app: { id: "crm" }, occurredAt: "2026-12-03T12:00:00Z", source: "hr", sourceEventId: "hr:x" };
    expect(IdentityDetail.safeParse({ ...detail, expiresAt: "2027-01-01T00:00:00Z" }).error?.issues[0]?.message).toContain("must name its owner");
    expect(IdentityDetail.safeParse({ ...detail, expiresAt: "2027-01-01T00:00:00Z", owner: "m@example.com" }).success).toBe(true);
  });

  it("reminds once 7 days and once 1 day before, revokes once when the day comes, and an extension moves all of it", async () => {
    const catalog = catalogWith();
    const email = "sam@example.com";
    await arrive(catalog, email, "lab"); // ends 2026-12-17T12:00Z, owned by lab@example.com
    const { subjectId } = (await store.findSubject({ email }))!;
    const job = () => expireAccounts({ ...deps(catalog), notify: async (n) => void sent.push(n) });
    const at = (iso: string) => (clock = new Date(iso));

    at("2026-12-09T12:00:00Z"); // 8 days before
    expect(await job()).toEqual({ started: [], reminded: [] });
    at("2026-12-11T12:00:00Z"); // 6 days before
    expect((await job()).reminded).toEqual([{ subjectId, appId: "lab", leadDays: 7 }]);
    expect(sent).toEqual([expect.objectContaining({ to: "lab@example.com", subject: "Access to lab ends in 6 days", text: expect.stringContaining(`revoke extend ${email} lab --until`) })]);
    expect((await job()).reminded).toEqual([]);

    // The owner extends by a week: the old date is superseded, the change is evidence.
    const extended = await store.setExpiry({ subjectId, appId: "lab", expiresAt: "2026-12-24T12:00:00.000Z", owner: "lab@example.com", by: "lab-owner", reason: "project ran long", now: clock.toISOString() });
    expect(extended).toBe(true);
    expect(await store.expiryChanges(subjectId)).toEqual([expect.objectContaining({ appId: "lab", from: "2026-12-17T12:00:00.000Z", to: "2026-12-24T12:00:00.000Z", by: "lab-owner", reason: "project ran long" })]);
    at("2026-12-17T13:00:00Z"); // past the old date, 7 days before the new one
    const afterOld = await job();
    expect(afterOld.started).toEqual([]);
    expect(afterOld.reminded).toEqual([{ subjectId, appId: "lab", leadDays: 7 }]);

    at("2026-12-24T00:00:00Z"); // 12 hours before
    expect((await job()).reminded).toEqual([{ subjectId, appId: "lab", leadDays: 1 }]);
    expect(sent.at(-1)).toMatchObject({ subject: "Access to lab ends in 1 day" });

    at("2026-12-24T12:00:01Z");
    const due = await job();
    expect(due.started).toEqual([expect.objectContaining({ subjectId, appId: "lab", action: "started" })]);
    expect(started).toEqual([expect.objectContaining({ input: expect.objectContaining({ action: "revoke-apps", appIds: ["lab"], trigger: expect.objectContaining({ source: "expiry", occurredAt: "2026-12-24T12:00:00.000Z" }) }) })]);
    // An overlapping or repeated sweep claims nothing twice.
    expect(await job()).toEqual({ started: [], reminded: [] });
    expect(started).toHaveLength(1);
    expect((await store.findSubject({ email }))?.status).toBe("ACTIVE");
  });

  it("an account kept by an owner's decision (RETAINED, a legal hold) is neither reminded of nor revoked at its end date", async () => {
    const catalog = catalogWith();
    const email = "ret@example.com";
    await arrive(catalog, email, "lab"); // ends 2026-12-17T12:00Z
    const { subjectId } = (await store.findSubject({ email }))!;
    await store.setAccountState(subjectId, "lab", { state: "RETAINED", detail: "kept by the owner's decision: legal hold" });
    const job = () => expireAccounts({ ...deps(catalog), notify: async (n) => void sent.push(n) });
    clock = new Date("2026-12-16T12:00:00Z");
    expect((await job()).reminded.filter((r) => r.subjectId === subjectId)).toEqual([]);
    clock = new Date("2026-12-17T12:00:01Z");
    expect((await job()).started.filter((r) => r.subjectId === subjectId)).toEqual([]);
    expect(sent.filter((n) => n.text.includes(email))).toEqual([]);
    expect(stillEnds(await store.getAccount(subjectId, "lab"), "2026-12-17T12:00:00.000Z")).toBe(false);
  });

  it("an account created three days before its end gets the 7-day reminder at once and the 1-day one on its day, never a late 7-day one", () => {
    const end = "2026-12-06T12:00:00.000Z";
    expect(reminderDue(end, new Date("2026-12-03T12:00:00Z"), [7, 1], [])).toBe(7);
    expect(reminderDue(end, new Date("2026-12-04T12:00:00Z"), [7, 1], [7])).toBeUndefined();
    expect(reminderDue(end, new Date("2026-12-05T13:00:00Z"), [7, 1], [7])).toBe(1);
    expect(reminderDue(end, new Date("2026-12-05T13:00:00Z"), [7, 1], [1, 7])).toBeUndefined();
    expect(reminderDue(end, new Date("2026-12-06T12:00:00Z"), [7, 1], [])).toBeUndefined(); // due: revoked, not reminded
  });

  it("a privileged arrival is time-boxed at once; a revoked account cannot be extended", async () => {
    const catalog = catalogWith();
    const email = "tia@example.com";
    await arrive(catalog, email, "admin");
    const { subjectId } = (await store.findSubject({ email }))!;
    expect(await store.getAccount(subjectId, "admin")).toMatchObject({ expiresAt: "2027-01-02T12:00:00.000Z", expiryOwner: "sec@example.com", privileged: true });
    expect((await store.listExpiries("2027-01-03T00:00:00Z")).map((e) => e.subjectId)).toContain(subjectId);
    await store.setAccountState(subjectId, "admin", { state: "REVOKED", revokedAt: clock.toISOString() });
    expect(await store.setExpiry({ subjectId, appId: "admin", expiresAt: "2027-02-01T00:00:00.000Z", owner: "sec@example.com", by: "x", reason: "y", now: clock.toISOString() })).toBe(false);
  });

  it("--until takes a date as the end of that day (UTC) or a timestamp, and nothing else", () => {
    expect(parseUntil("2027-01-31")).toBe("2027-01-31T23:59:59.000Z");
    expect(parseUntil("2027-01-31T08:00:00+01:00")).toBe("2027-01-31T07:00:00.000Z");
    for (const bad of ["tomorrow", "31/01/2027", "", "2027-02-30x"]) expect(parseUntil(bad), bad).toBeUndefined();
  });
});

describe("the mass-departure brake trips, holds, and is released or discarded by an engineer", () => {
  // A store of its own: the window must hold only this wave.
  let wholeStore: Store;
  let ownDynamo: LocalDynamo;
  beforeAll(async () => {
    wholeStore = store;
    ({ store, dynamo: ownDynamo } = await testStore());
  });
  afterAll(async () => {
    await ownDynamo.close();
    store = wholeStore;
  });
  const tightBrake = () => catalogWith({ brake: { enabled: true, windowMinutes: 60, maxDepartures: 2 } });
  const departure = (email: string, id: string, source = "hr") => envelope("Identity.Departed", { subject: { email }, occurredAt: clock.toISOString(), source, sourceEventId: id, reason: "termination" });

  it("past the limit, departures are held PENDING_CONFIRMATION and announced once; a manual one passes and says so", async () => {
    const catalog = tightBrake();
    const outcomes = [];
    for (const n of [1, 2, 3, 4]) outcomes.push(await startOffboarding(departure(`wave${n}@example.com`, `hr:wave${n}`), deps(catalog)));
    expect(outcomes.map((o) => o.action)).toEqual(["started", "started", "held", "held"]);
    expect(published.filter((p) => p.detailType === "Offboarding.BrakeEngaged")).toHaveLength(1);
    expect((await store.findSubject({ email: "wave3@example.com" }))?.status).toBe("PENDING_CONFIRMATION");
    // A replay of a held departure is still held, and held once.
    expect((await startOffboarding(departure("wave3@example.com", "hr:wave3"), deps(catalog))).action).toBe("held");

    const manual = await startOffboarding(departure("urgent@example.com", "manual:u1", "manual"), deps(catalog));
    expect(manual.action).toBe("started");
    expect(started.at(-1)!.input.trigger).toMatchObject({ reason: "termination", brake: "started by an engineer: passes the brake" });

    const report = await brakeReport(store, catalog.brake, clock);
    expect(report).toMatchObject({ state: "ENGAGED", by: "automatic", window: { limit: 2 } });
    expect(report.held.map((h) => h.subjectId).sort()).toEqual([(await store.findSubject({ email: "wave3@example.com" }))!.subjectId, (await store.findSubject({ email: "wave4@example.com" }))!.subjectId].sort());
  });

  it("a wave of suspensions is held like departures (and released the same way); an engineer's offboarding of a held person passes", async () => {
    const catalog = tightBrake();
    const suspension = (email: string, id: string) => envelope("Identity.Suspended", { subject: { email }, occurredAt: clock.toISOString(), source: "okta", sourceEventId: id });
    const held = await startOffboarding(suspension("sus1@example.com", "okta:sus1"), deps(catalog));
    expect(held).toMatchObject({ action: "held" });
    expect(started).toEqual([]);
    // The person is not shown departing: a suspension keeps their status.
    expect((await store.findSubject({ email: "sus1@example.com" }))?.status).toBe("ACTIVE");
    const heldId = (held as { heldId: string }).heldId;
    await releaseHeldRequests(store, { by: "oncall-1", reason: "real incident", now: clock, heldIds: [heldId] });
    expect(await releaseHeld(envelope("Brake.HeldReleased", { heldId }), deps(catalog))).toMatchObject({ action: "suspension", outcome: { action: "suspending" } });
    expect(started[0]!.input).toMatchObject({ action: "suspend", trigger: { brake: RELEASED_NOTE } });

    const wave3 = (await store.findSubject({ email: "wave3@example.com" }))!;
    expect(wave3.status).toBe("PENDING_CONFIRMATION");
    const byHand = await startOffboarding(departure("wave3@example.com", "manual:w3", "manual"), deps(catalog));
    expect(byHand.action).toBe("started");
    expect(started.at(-1)!.input.trigger).toMatchObject({ source: "manual", brake: "started by an engineer: passes the brake" });
    // An automatic replay of the held departure still starts nothing.
    expect((await startOffboarding(departure("wave3@example.com", "hr:wave3"), deps(catalog))).action).not.toBe("started");
  });

  it("released by id, one held departure starts as it would have (once, however often the release is replayed); a discarded one never starts", async () => {
    const catalog = tightBrake();
    const held = await listHeld(store, "HELD");
    const wave3 = held.find((h) => h.sourceEventId === "hr:wave3");
    const wave4 = held.find((h) => h.sourceEventId === "hr:wave4");
    const releaseEvent = (heldId: string) => envelope("Brake.HeldReleased", { heldId });

    // A release event for a request nobody released starts nothing (the decision lives in the store).
    expect(await releaseHeld(releaseEvent(wave3!.heldId), deps(catalog))).toMatchObject({ action: "ignored", reason: "the held request is HELD, not RELEASED" });

    const released = await releaseHeldRequests(store, { by: "oncall-1", reason: "wave3 is a real leaver", now: clock, heldIds: [wave3!.heldId, "held-nope"] });
    expect(released).toEqual({ released: [wave3!.heldId], unknown: ["held-nope"], alreadyDecided: [], wasEngaged: true });
    expect((await brakeState(store))?.state).toBe("ENGAGED"); // by id: the brake stays on for the rest
    // wave3 was offboarded by hand meanwhile (above): releasing the held departure starts no second run.
    for (let i = 0; i < 3; i++) expect((await releaseHeld(releaseEvent(wave3!.heldId), deps(catalog))).action).toBe("departure");
    const runs = new Set(started.map((s) => s.name));
    expect(runs.size).toBe(1);
    expect(started[0]!.input.trigger).toMatchObject({ sourceEventId: "manual:w3", brake: "started by an engineer: passes the brake" });
    expect((await store.getProfile(wave3!.subjectId))?.status).toBe("DEPARTING");

    const discarded = await discardHeldRequests(store, { by: "oncall-1", reason: "test file from HR", now: clock, heldIds: [wave4!.heldId] });
    expect(discarded.discarded).toEqual([wave4!.heldId]);
    expect((await store.getProfile(wave4!.subjectId))?.status).toBe("ACTIVE");
    expect(await releaseHeld(releaseEvent(wave4!.heldId), deps(catalog))).toMatchObject({ action: "ignored" });
    // Decided is decided: a discarded request cannot be released afterwards.
    expect((await releaseHeldRequests(store, { by: "x", reason: "y", now: clock, heldIds: [wave4!.heldId] })).alreadyDecided).toEqual([wave4!.heldId]);
    expect(new Set(started.map((s) => s.name))).toEqual(runs);
  });

  it("held app revocations (a mover in the wave) are released the same way; a full release disengages and later departures count afresh", async () => {
    const catalog = tightBrake();
    const email = "uma@example.com";
    await arrive(catalog, email, "wiki");
    const mover = await handleRoleChange(roleChange(email, "wiki", { change: "removed", via: "assignment", id: "0oa-wiki" }, "okta:u1"), { ...deps(catalog), remainingGrants: async () => ({ checked: true, stillGranted: [] }) });
    expect(mover.action).toBe("held");
    const { subjectId } = (await store.findSubject({ email }))!;
    expect((await store.listRuns(subjectId)).map((r) => r.status)).toEqual(["HELD"]);

    const all = await releaseHeldRequests(store, { by: "oncall-2", reason: "HR confirmed the list", now: clock });
    expect(all.released).toHaveLength(1);
    expect(await brakeState(store)).toMatchObject({ state: "RELEASED", by: "oncall-2", reason: "HR confirmed the list" });
    const out = await releaseHeld(envelope("Brake.HeldReleased", { heldId: all.released[0] }), deps(catalog));
    expect(out).toMatchObject({ action: "revoke-apps", outcome: { action: "started" } });
    expect(started[0]!.input).toMatchObject({ action: "revoke-apps", appIds: ["wiki"], trigger: { brake: RELEASED_NOTE } });
    expect((await store.listRuns(subjectId)).map((r) => r.status)).toEqual(["RUNNING"]);

    clock = new Date(clock.getTime() + 1000);
    expect((await startOffboarding(departure("after@example.com", "hr:after"), deps(catalog))).action).toBe("started");
    // By hand: engaged by an engineer, recorded with their name; engaging again keeps the first reason.
    expect(await engage(store, { by: "oncall-3", reason: "HR feed looks wrong", now: clock })).toBe(true);
    expect(await engage(store, { by: "oncall-4", reason: "again", now: clock })).toBe(false);
    expect(await brakeState(store)).toMatchObject({ state: "ENGAGED", by: "oncall-3" });
    expect((await startOffboarding(departure("later@example.com", "hr:later"), deps(catalog))).action).toBe("held");
  });

  it("a second source's report of a held departure is held on its own: discarding the bad HR one does not drop the IdP's", async () => {
    const catalog = tightBrake();
    const email = "carol@example.com";
    expect((await startOffboarding(departure(email, "hr:bogus-1"), deps(catalog))).action).toBe("held");
    const okta = await startOffboarding(departure(email, "okta:real-deactivate", "okta"), deps(catalog));
    expect(okta).toMatchObject({ action: "held", heldId: expect.stringMatching(/^held-/) });
    const { subjectId } = (await store.findSubject({ email }))!;
    const mine = async () => (await listHeld(store, "HELD")).filter((h) => h.subjectId === subjectId).map((h) => h.sourceEventId).sort();
    expect(await mine()).toEqual(["hr:bogus-1", "okta:real-deactivate"]);

    const hrHeld = (await listHeld(store, "HELD")).find((h) => h.sourceEventId === "hr:bogus-1")!;
    await discardHeldRequests(store, { by: "oncall-1", reason: "bad HR test file", now: clock, heldIds: [hrHeld.heldId] });
    // Still held for the IdP's report: not back to ACTIVE.
    expect((await store.getProfile(subjectId))?.status).toBe("PENDING_CONFIRMATION");
    expect(await mine()).toEqual(["okta:real-deactivate"]);

    const { released } = await releaseHeldRequests(store, { by: "oncall-1", reason: "Okta deactivated her", now: clock, heldIds: [(okta as { heldId: string }).heldId] });
    expect(await releaseHeld(envelope("Brake.HeldReleased", { heldId: released[0] }), deps(catalog))).toMatchObject({ action: "departure", outcome: { action: "started" } });
    expect(started.at(-1)!.input.trigger).toMatchObject({ sourceEventId: "okta:real-deactivate", brake: RELEASED_NOTE });

    // Discarding every report of a held person puts them back where they were.
    const other = "dora@example.com";
    await startOffboarding(departure(other, "hr:bogus-2"), deps(catalog));
    await startOffboarding(departure(other, "hr:bogus-2b"), deps(catalog));
    await discardHeldRequests(store, { by: "oncall-1", reason: "bad file", now: clock });
    expect((await store.findSubject({ email: other }))?.status).toBe("ACTIVE");
  });
});
