import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../../functions/lib/store";
import type { LocalDynamo } from "../../../local/dynamo";
import { testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
beforeAll(async () => ({ store, dynamo } = await testStore()));
afterAll(() => dynamo.close());
const now = "2026-12-03T10:00:00.000Z";
const trigger = { source: "hr", sourceEventId: "hr:1", occurredAt: now };

describe("subjects", () => {
  it("one person seen by email, then by HR id + email in other casing, is one subject with both ids", async () => {
    const a = await store.resolveSubject({ email: "carol@example.com", oktaId: "00uC" }, now);
    const b = await store.resolveSubject({ email: "Carol@Example.com".toLowerCase(), hrId: "E7" }, now);
    expect(b.subjectId).toBe(a.subjectId);
    expect(b).toMatchObject({ hrId: "E7", oktaId: "00uC", emails: ["carol@example.com"], status: "ACTIVE" });
    expect((await store.findSubject({ hrId: "E7" }))?.subjectId).toBe(a.subjectId);
  });

  it("a renamed email joins the same person through a shared id", async () => {
    const first = await store.resolveSubject({ email: "dan@example.com", hrId: "E8" }, now);
    const renamed = await store.resolveSubject({ email: "daniel@example.com", hrId: "E8" }, now);
    expect(renamed.subjectId).toBe(first.subjectId);
    expect(renamed.emails).toEqual(["dan@example.com", "daniel@example.com"]);
  });

  it("two concurrent first sightings converge on one subject", async () => {
    const [x, y] = await Promise.all([store.resolveSubject({ email: "race@example.com" }, now), store.resolveSubject({ email: "race@example.com" }, now)]);
    expect(x.subjectId).toBe(y.subjectId);
  });
});

describe("arrivals", () => {
  it("the first arrival wins and keeps its source event id; replays and races are no-ops", async () => {
    const { subjectId } = await store.resolveSubject({ email: "erin@example.com" }, now);
    const base = { subjectId, appId: "crm", firstSeenAt: now, via: "jit-sso" as const, source: "okta" };
    const results = await Promise.all([store.recordArrival({ ...base, sourceEventId: "okta:1" }), store.recordArrival({ ...base, sourceEventId: "okta:2" })]);
    expect(results.filter((r) => r.recorded)).toHaveLength(1);
    const again = await store.recordArrival({ ...base, sourceEventId: "okta:3", firstSeenAt: "2030-01-01T00:00:00Z" });
    expect(again.recorded).toBe(false);
    expect(again.account.sourceEventId).toBe(results.find((r) => r.recorded)!.account.sourceEventId);
    expect(await store.listAccounts(subjectId)).toHaveLength(1);
  });
});

describe("departures and account states", () => {
  it("a subject departs once: the second claim learns the owning run", async () => {
    const { subjectId } = await store.resolveSubject({ email: "finn@example.com" }, now);
    const claims = await Promise.all([
      store.beginDeparture({ subjectId, runName: "run-a", trigger, now }),
      store.beginDeparture({ subjectId, runName: "run-b", trigger: { ...trigger, sourceEventId: "okta:9" }, now }),
    ]);
    const owners = claims.filter((c) => c.owner);
    expect(owners).toHaveLength(1);
    const loser = claims.find((c) => !c.owner)!;
    expect(loser).toEqual({ owner: false, runName: owners[0]!.runName, status: "DEPARTING" });
    expect(await store.listRuns(subjectId)).toHaveLength(1);
  });

  it("REVOKED never moves back; completing a run settles the subject only for the owning run", async () => {
    const { subjectId } = await store.resolveSubject({ email: "gus@example.com" }, now);
    await store.recordArrival({ subjectId, appId: "crm", firstSeenAt: now, via: "jit-sso", source: "okta", sourceEventId: "okta:g" });
    expect(await store.setAccountState(subjectId, "crm", { state: "REVOKED", revokedAt: now })).toBe(true);
    expect(await store.setAccountState(subjectId, "crm", { state: "REVOKING" })).toBe(false);
    expect(await store.setAccountState(subjectId, "nope", { state: "REVOKING" })).toBe(false);
    expect((await store.getAccount(subjectId, "crm"))?.state).toBe("REVOKED");

    await store.beginDeparture({ subjectId, runName: "run-g", trigger, now });
    await store.completeRun({ subjectId, runName: "stale-run", status: "NEEDS_ATTENTION", results: [], idpResults: [], accessSurvivedMs: null, summary: "x", now }).catch(() => undefined);
    expect((await store.getProfile(subjectId))?.status).toBe("DEPARTING");
    await store.completeRun({ subjectId, runName: "run-g", status: "OFFBOARDED", results: [], idpResults: [], accessSurvivedMs: null, summary: "done", now });
    expect(await store.getProfile(subjectId)).toMatchObject({ status: "OFFBOARDED", lastRun: "run-g" });
    expect((await store.beginDeparture({ subjectId, runName: "run-h", trigger, now })).owner).toBe(false);
  });
});

describe("identity conflicts are never merged", () => {
  it("an HR id that belongs to one person and an email that belongs to another is a conflict, and nobody changes", async () => {
    const erin = await store.resolveSubject({ email: "erin2@example.com", hrId: "5001" }, now);
    const bob = await store.resolveSubject({ email: "bob2@example.com", oktaId: "00uBOB2" }, now);
    await expect(store.resolveSubject({ email: "bob2@example.com", hrId: "5001" }, now)).rejects.toThrow(/IdentityConflict|2 different people/);
    expect((await store.getProfile(erin.subjectId))?.emails).toEqual(["erin2@example.com"]);
    expect((await store.getProfile(bob.subjectId))?.hrId).toBeUndefined();
  });

  it("a second Okta id for the same email is a conflict, not a second account list on one person", async () => {
    await store.resolveSubject({ email: "frank2@example.com", oktaId: "00uFRANK1" }, now);
    await expect(store.resolveSubject({ email: "frank2@example.com", oktaId: "00uFRANK2" }, now)).rejects.toMatchObject({ name: "IdentityConflict" });
  });

  it("an HR event and an Okta event seen at the same moment for a new person converge on one subject", async () => {
    const [hr, idp] = await Promise.all([
      store.resolveSubject({ email: "newbie@example.com", hrId: "E900" }, now),
      store.resolveSubject({ email: "newbie@example.com", oktaId: "00uNEWBIE" }, now),
    ]);
    expect(hr.subjectId).toBe(idp.subjectId);
  });
});
