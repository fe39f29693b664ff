import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRun } from "../../../functions/close-run/close-run";
import { ingest, MAX_BODY_BYTES } from "../../../functions/ingest/ingest";
import type { CanonicalEvent } from "../../../functions/lib/events";
import type { OffboardInput } from "../../../functions/lib/runs";
import type { Store } from "../../../functions/lib/store";
import { planOffboarding } from "../../../functions/plan-offboarding/plan-offboarding";
import { recordAppOutcome } from "../../../functions/record-app-outcome/record-app-outcome";
import { recordArrival } from "../../../functions/record-arrival/record-arrival";
import { verifyAndRecord } from "../../../functions/scim-verify/scim-verify";
import { startOffboarding } from "../../../functions/start-offboarding/start-offboarding";
import type { LocalDynamo } from "../../../local/dynamo";
import { oktaEvent, testCatalog } from "../../helpers/fixtures";
import { envelope, testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
beforeAll(async () => ({ store, dynamo } = await testStore()));
afterAll(() => dynamo.close());

const clock = () => new Date("2026-12-03T12:00:00Z");
function recorder() {
  const started: Array<{ name: string; input: OffboardInput }> = [];
  const published: Array<{ detailType: string; detail: unknown }> = [];
  return {
    started,
    published,
    startExecution: async (name: string, input: OffboardInput) => void started.push({ name, input }),
    publish: async (entries: Array<{ detailType: string; detail: unknown }>) => void published.push(...entries),
  };
}
const arrivalDetail = (email: string, appId: string, sourceEventId: string) => ({ subject: { email }, app: { id: appId, accountName: email }, occurredAt: "2026-12-01T00:00:00Z", source: "okta", sourceEventId });
const departureDetail = (email: string, sourceEventId: string, extra = {}) => ({ subject: { email }, occurredAt: "2026-12-03T11:00:00Z", source: "hr", sourceEventId, ...extra });

describe("ingest (POST /events)", () => {
  const http = (body: string | undefined, method = "POST", isBase64Encoded = false) =>
    ({ body, isBase64Encoded, requestContext: { http: { method } } }) as unknown as APIGatewayProxyEventV2;
  const published: CanonicalEvent[][] = [];
  const deps = { catalog: testCatalog, publish: async (events: CanonicalEvent[]) => (published.push(events), events.map((_, i) => `id${i}`)) };

  it("normalizes a real Okta event and puts it on the bus", async () => {
    const res = await ingest(http(JSON.stringify(oktaEvent("user.authentication.sso"))), deps);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toMatchObject({ accepted: 1, events: [{ detailType: "Identity.Arrived" }] });
    expect(published.at(-1)).toHaveLength(1);
  });

  it("accepts base64 bodies as API Gateway delivers them", async () => {
    const res = await ingest(http(Buffer.from(JSON.stringify(oktaEvent("user.lifecycle.deactivate"))).toString("base64"), "POST", true), deps);
    expect(JSON.parse(res.body!).accepted).toBe(1);
  });

  it.each([
    [undefined, 400, "body is empty"],
    ["{not json", 400, "body is not JSON"],
    ['{"hello":"world"}', 400, "unrecognized payload"],
    ["x".repeat(MAX_BODY_BYTES + 1), 413, "larger than"],
  ])("refuses %s with %i and a one-line reason, publishing nothing", async (body, status, reason) => {
    const before = published.length;
    const res = await ingest(http(body as string | undefined), deps);
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body!).error).toContain(reason);
    expect(published.length).toBe(before);
  });

  it("refuses methods other than POST", async () => {
    expect((await ingest(http("{}", "GET"), deps)).statusCode).toBe(405);
  });

  it("well-formed events it does not act on are 200 and listed as ignored", async () => {
    const res = await ingest(http(JSON.stringify(oktaEvent("user.session.start"))), deps);
    expect(JSON.parse(res.body!)).toMatchObject({ accepted: 0, ignored: [{ eventType: "user.session.start" }] });
  });
});

describe("start-offboarding", () => {
  it("starts one run per departure, named after it; duplicates and a second source start nothing", async () => {
    const r = recorder();
    const deps = { store, startExecution: r.startExecution, now: clock };
    const first = await startOffboarding(envelope("Identity.Departed", departureDetail("hank@example.com", "hr:1")), deps);
    const dup = await startOffboarding(envelope("Identity.Departed", departureDetail("hank@example.com", "hr:1")), deps);
    const other = await startOffboarding(envelope("Identity.Departed", { ...departureDetail("HANK@example.com", "okta:2"), source: "okta" }), deps);
    expect(first.action).toBe("started");
    expect(dup.action).toBe("resumed");
    expect(other.action).toBe("resumed");
    // The resume re-starts the same name with the same input, which StartExecution treats as the same execution.
    expect(new Set(r.started.map((s) => s.name))).toEqual(new Set([(first as { runName: string }).runName]));
    expect(new Set(r.started.map((s) => JSON.stringify(s.input))).size).toBe(1);
  });

  it("a departure for someone with no recorded arrivals still starts a run (that will find nothing)", async () => {
    const r = recorder();
    const out = await startOffboarding(envelope("Identity.Departed", departureDetail("ivy@example.com", "hr:ivy")), { store, startExecution: r.startExecution, now: clock });
    expect(out.action).toBe("started");
  });

  it("a future-dated termination is kept, not started and not lost", async () => {
    const r = recorder();
    const out = await startOffboarding(envelope("Identity.Departed", departureDetail("jo@example.com", "hr:jo", { effectiveAt: "2027-01-31T00:00:00Z" })), { store, startExecution: r.startExecution, now: clock });
    expect(out).toMatchObject({ action: "scheduled", effectiveAt: "2027-01-31T00:00:00Z" });
    expect(r.started).toEqual([]);
    const profile = await store.findSubject({ email: "jo@example.com" });
    expect(await store.queryPrefix(`SUBJECT#${profile!.subjectId}`, "SCHEDULED#")).toHaveLength(1);
  });

  it("rejects an envelope whose detail is not canonical", async () => {
    const r = recorder();
    await expect(startOffboarding(envelope("Identity.Departed", { subject: {} }), { store, startExecution: r.startExecution, now: clock })).rejects.toThrow();
    expect(r.started).toEqual([]);
  });
});

describe("record-arrival", () => {
  it("records the first arrival, ignores the replay, and trips the wire for an arrival after departure", async () => {
    const r = recorder();
    const deps = { store, catalog: testCatalog, startExecution: r.startExecution, publish: r.publish, now: clock };
    expect((await recordArrival(envelope("Identity.Arrived", arrivalDetail("kim@example.com", "crm", "okta:k1")), deps)).action).toBe("recorded");
    expect((await recordArrival(envelope("Identity.Arrived", arrivalDetail("kim@example.com", "crm", "okta:k1")), deps)).action).toBe("duplicate");
    expect(r.started).toEqual([]);

    await startOffboarding(envelope("Identity.Departed", departureDetail("kim@example.com", "hr:kim")), { store, startExecution: r.startExecution, now: clock });
    const late = await recordArrival(envelope("Identity.Arrived", arrivalDetail("kim@example.com", "wiki", "okta:k2")), deps);
    expect(late.action).toBe("tripwire");
    const tripRun = r.started.find((s) => s.name.startsWith("tripwire-"))!;
    expect(tripRun.input).toMatchObject({ appIds: ["wiki"], trigger: { reason: "arrival after departure" } });
    expect(r.published).toEqual([expect.objectContaining({ detailType: "Offboarding.NeedsAttention", detail: expect.objectContaining({ reason: "arrival after departure", appId: "wiki" }) })]);
  });
});

describe("plan → record outcome → close", () => {
  it("plans every recorded account, skips revoked ones, and maps unknown apps to attention", async () => {
    const r = recorder();
    const deps = { store, catalog: testCatalog, startExecution: r.startExecution, publish: r.publish, now: clock };
    for (const appId of ["crm", "wiki", "okta-0oaUNKNOWN"]) await recordArrival(envelope("Identity.Arrived", arrivalDetail("lee@example.com", appId, `okta:l-${appId}`)), deps);
    const profile = (await store.findSubject({ email: "lee@example.com" }))!;
    await store.setAccountState(profile.subjectId, "wiki", { state: "REVOKED" });
    const trigger = { source: "manual", sourceEventId: "m:1", occurredAt: "2026-12-03T00:00:00Z" };
    const plan = await planOffboarding({ runName: "run-lee", subjectId: profile.subjectId, trigger }, { store, catalog: testCatalog });
    expect(plan.apps.map((a) => [a.appId, a.mode])).toEqual([["crm", "scim"], ["okta-0oaUNKNOWN", "unmapped"]]);
    expect(plan.skipped).toEqual([{ appId: "wiki", state: "REVOKED", reason: "already revoked" }]);
    expect(plan.apps[0]).toMatchObject({ accountName: "lee@example.com", emails: ["lee@example.com"] });

    const crm = await recordAppOutcome(
      { subjectId: profile.subjectId, runName: "run-lee", app: plan.apps[0], revoke: { scimId: "s1", found: true, revokedAt: "t1", evidence: [{ method: "PATCH" }] }, verify: { verifiedAt: "t2", readBack: "inactive", evidence: [] } },
      { store },
    );
    expect(crm).toMatchObject({ state: "REVOKED", revokedAt: "t1", verifiedAt: "t2", evidence: [{ method: "PATCH" }] });
    const unknown = await recordAppOutcome({ subjectId: profile.subjectId, runName: "run-lee", app: plan.apps[1] }, { store });
    expect(unknown).toMatchObject({ state: "FAILED", detail: expect.stringContaining("not in the catalog") });
    const failed = await recordAppOutcome(
      { subjectId: profile.subjectId, runName: "run-lee", app: plan.apps[0], error: { Error: "Transient", Cause: JSON.stringify({ errorMessage: "PATCH /Users/s1 → 503", errorType: "Transient", trace: ["at x"] }) } },
      { store },
    );
    expect(failed.detail).toBe("Transient: PATCH /Users/s1 → 503");
    expect((await store.getAccount(profile.subjectId, "crm"))?.state).toBe("REVOKED");

    await store.beginDeparture({ subjectId: profile.subjectId, runName: "run-lee", trigger, now: "t" });
    const closed = await closeRun({ subjectId: profile.subjectId, runName: "run-lee", trigger, results: [crm, unknown] }, { store, publish: r.publish, now: clock });
    expect(closed).toMatchObject({ status: "NEEDS_ATTENTION", summary: "no IdP configured: IdP sessions and tokens were not revoked; 1 of 2 app(s) not revoked: okta-0oaUNKNOWN" });
    expect(r.published.at(-1)).toMatchObject({ detailType: "Offboarding.NeedsAttention" });
    expect((await store.getProfile(profile.subjectId))?.status).toBe("NEEDS_ATTENTION");
  });

  it("a run with nothing to revoke closes OFFBOARDED; a run that failed early closes NEEDS_ATTENTION", async () => {
    const r = recorder();
    const trigger = { source: "hr", sourceEventId: "hr:x", occurredAt: "t" };
    expect(await closeRun({ runName: "r1", subjectId: "sub-none", trigger, results: [] }, { store, publish: r.publish, now: clock }).catch((e: Error) => e.message)).toMatch(/ConditionalCheckFailed|conditional/i);
    const { subjectId } = await store.resolveSubject({ email: "mo@example.com" }, "t");
    await store.beginDeparture({ subjectId, runName: "r2", trigger, now: "t" });
    expect((await closeRun({ runName: "r2", subjectId, trigger, results: [] }, { store, publish: r.publish, now: clock })).summary).toContain("nothing to revoke: no accounts recorded for this person");
    expect((await closeRun({ runName: "r2", subjectId, trigger, error: { Error: "States.Timeout", Cause: "slow" } }, { store, publish: r.publish, now: clock })).status).toBe("NEEDS_ATTENTION");
  });
});

describe("close: what the summary may claim", () => {
  it("a suspension with no IdP configured closed nothing: NEEDS_ATTENTION, and it says why", async () => {
    const r = recorder();
    const { subjectId } = await store.resolveSubject({ email: "sus@example.com" }, "t");
    const trigger = { source: "okta", sourceEventId: "okta:s", occurredAt: "t" };
    await store.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: "RUN#suspend-s", subjectId, runName: "suspend-s", trigger, status: "RUNNING", startedAt: "t" });
    const closed = await closeRun({ runName: "suspend-s", subjectId, trigger, frontDoorOnly: true, idpResults: [] }, { store, publish: r.publish, now: clock });
    expect(closed).toMatchObject({ status: "NEEDS_ATTENTION", summary: expect.stringContaining("suspension closed nothing: no IdP is configured") });
    expect(r.published.at(-1)).toMatchObject({ detailType: "Offboarding.NeedsAttention" });
  });

  it("an owner's confirmation is counted as attested, not as verified; a retained account is named", async () => {
    const r = recorder();
    const { subjectId } = await store.resolveSubject({ email: "att@example.com" }, "t");
    const trigger = { source: "hr", sourceEventId: "hr:att", occurredAt: "t" };
    await store.beginDeparture({ subjectId, runName: "r-att", trigger, now: "t" });
    const results = [
      { appId: "crm", mode: "scim", state: "REVOKED" as const, verifiedAt: "t", evidence: [] },
      { appId: "payroll", mode: "manual", state: "REVOKED" as const, evidence: [] },
      { appId: "lab", mode: "manual", state: "RETAINED" as const, evidence: [] },
    ];
    const closed = await closeRun({ runName: "r-att", subjectId, trigger, results }, { store, publish: r.publish, now: clock });
    expect(closed.status).toBe("OFFBOARDED");
    expect(closed.summary).toContain("1 app(s) revoked and verified, 1 removed as confirmed by the owner, 1 retained by owner decision (lab)");
  });
});

describe("scim-verify (verify by read-back, then record)", () => {
  const app = { appId: "crm", appName: "CRM", mode: "scim", accountName: "vi@example.com", emails: ["vi@example.com"], action: "deactivate" };
  const person = async (email: string) => {
    const { subjectId } = await store.resolveSubject({ email }, "t");
    await store.recordArrival({ subjectId, appId: "crm", accountName: email, firstSeenAt: "t", via: "jit-sso", source: "okta", sourceEventId: `okta:${email}` });
    return subjectId;
  };
  const readBack = (user: { id: string; active: boolean }) => async () => ({ getUser: async () => user, findUser: async () => user, managesGroups: false, groupsOf: async () => [], evidence: [{ method: "GET", path: "/Users/s9" }] }) as never;

  it("a verified read-back records the app REVOKED in the same step and returns its result", async () => {
    const subjectId = await person("vi@example.com");
    const input = { subjectId, runName: "run-vi", app, revoke: { scimId: "s9", found: true, revokedAt: "t1", evidence: [{ method: "PATCH" }] } };
    const result = await verifyAndRecord(input, { clientFor: readBack({ id: "s9", active: false }), now: clock, store });
    expect(result).toMatchObject({ appId: "crm", state: "REVOKED", revokedAt: "t1", verifiedAt: clock().toISOString(), detail: "deactivated; read-back inactive", evidence: [{ method: "PATCH" }, { method: "GET" }] });
    expect(await store.getAccount(subjectId, "crm")).toMatchObject({ state: "REVOKED", lastRun: "run-vi", scimId: "s9" });
  });

  it("a read-back that still shows the account active throws Unverified and records nothing", async () => {
    const subjectId = await person("vo@example.com");
    const input = { subjectId, runName: "run-vo", app, revoke: { scimId: "s9", found: true, revokedAt: "t1", evidence: [] } };
    await expect(verifyAndRecord(input, { clientFor: readBack({ id: "s9", active: true }), now: clock, store })).rejects.toMatchObject({ name: "Unverified" });
    expect((await store.getAccount(subjectId, "crm"))?.state).toBe("ACTIVE");
  });
});
