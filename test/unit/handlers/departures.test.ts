import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OffboardInput } from "../../../functions/lib/runs";
import type { Store } from "../../../functions/lib/store";
import { startDueDepartures } from "../../../functions/start-due-departures/start-due-departures";
import { startOffboarding, takesEffectLater } from "../../../functions/start-offboarding/start-offboarding";
import type { LocalDynamo } from "../../../local/dynamo";
import { envelope, testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
beforeAll(async () => ({ store, dynamo } = await testStore()));
afterAll(() => dynamo.close());

const at = (iso: string) => () => new Date(iso);
const departure = (email: string, sourceEventId: string, extra = {}) =>
  envelope("Identity.Departed", { subject: { email }, occurredAt: "2026-12-03T09:00:00Z", source: "hr", sourceEventId, ...extra });
const starter = () => {
  const started: Array<{ name: string; input: OffboardInput }> = [];
  return { started, startExecution: async (name: string, input: OffboardInput) => void started.push({ name, input }) };
};

describe("when a departure takes effect", () => {
  it("compares calendar days in UTC: later today starts now, tomorrow waits", () => {
    const now = new Date("2026-12-03T19:16:00Z");
    expect(takesEffectLater("2026-12-03T23:30:00.000Z", now)).toBe(false);
    expect(takesEffectLater("2026-12-02T00:00:00.000Z", now)).toBe(false);
    expect(takesEffectLater("2026-12-04T00:00:00.000Z", now)).toBe(true);
  });

  it("a termination effective later today starts at once", async () => {
    const s = starter();
    const out = await startOffboarding(departure("today@example.com", "hr:today", { effectiveAt: "2026-12-03T23:30:00.000Z" }), { store, startExecution: s.startExecution, now: at("2026-12-03T19:16:00Z") });
    expect(out.action).toBe("started");
  });
});

describe("a person left NEEDS_ATTENTION", () => {
  it("is not re-driven by a duplicate of the departure that already ran, only by a new departure event", async () => {
    const s = starter();
    const deps = { store, startExecution: s.startExecution, now: at("2026-12-03T10:00:00Z") };
    const first = await startOffboarding(departure("nadia@example.com", "hr:n1"), deps);
    expect(first.action).toBe("started");
    const { subjectId, runName } = first as { subjectId: string; runName: string };
    await store.completeRun({ subjectId, runName, status: "NEEDS_ATTENTION", results: [], idpResults: [], accessSurvivedMs: null, summary: "x", now: "t" });
    for (let i = 0; i < 3; i++) expect((await startOffboarding(departure("nadia@example.com", "hr:n1"), deps)).action).toBe("duplicate");
    expect(s.started).toHaveLength(1);
    const retry = await startOffboarding(departure("nadia@example.com", "manual:retry-1", { source: "manual" }), deps);
    expect(retry.action).toBe("started");
    expect((retry as { runName: string }).runName).not.toBe(runName);
  });

  it("is what a failed tripwire or suspension leaves, even after an offboarding that succeeded", async () => {
    const { subjectId } = await store.resolveSubject({ email: "otto@example.com" }, "t");
    const trigger = { source: "hr", sourceEventId: "hr:o", occurredAt: "t" };
    await store.beginDeparture({ subjectId, runName: "run-o", trigger, now: "t" });
    await store.completeRun({ subjectId, runName: "run-o", status: "OFFBOARDED", results: [], idpResults: [], accessSurvivedMs: null, summary: "ok", now: "t" });
    await store.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: "RUN#tripwire-o", subjectId, runName: "tripwire-o", trigger, status: "RUNNING", startedAt: "t" });
    await store.completeRun({ subjectId, runName: "tripwire-o", status: "NEEDS_ATTENTION", results: [], idpResults: [], accessSurvivedMs: null, summary: "wiki not revoked", now: "t" });
    expect(await store.getProfile(subjectId)).toMatchObject({ status: "NEEDS_ATTENTION", lastRun: "tripwire-o" });
  });

  it("but a run that does not own the departure never overrides one in progress", async () => {
    const { subjectId } = await store.resolveSubject({ email: "pia@example.com" }, "t");
    const trigger = { source: "hr", sourceEventId: "hr:p", occurredAt: "t" };
    await store.beginDeparture({ subjectId, runName: "run-p", trigger, now: "t" });
    await store.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: "RUN#suspend-p", subjectId, runName: "suspend-p", trigger, status: "RUNNING", startedAt: "t" });
    await store.completeRun({ subjectId, runName: "suspend-p", status: "NEEDS_ATTENTION", results: [], idpResults: [], accessSurvivedMs: null, summary: "x", now: "t" });
    expect(await store.getProfile(subjectId)).toMatchObject({ status: "DEPARTING", currentRun: "run-p" });
  });
});

describe("scheduled departures", () => {
  it("a termination effective on a later day is scheduled, then started once on its day", async () => {
    const s = starter();
    const scheduled = await startOffboarding(departure("quin@example.com", "hr:q", { effectiveAt: "2026-12-10T00:00:00.000Z" }), { store, startExecution: s.startExecution, now: at("2026-12-03T10:00:00Z") });
    expect(scheduled.action).toBe("scheduled");
    expect(s.started).toEqual([]);

    const published: Array<{ detailType: string; detail: unknown }> = [];
    const publish = async (entries: Array<{ detailType: string; detail: unknown }>) => void published.push(...entries);
    expect(await startDueDepartures({ store, publish, now: at("2026-12-09T23:00:00Z") })).toEqual({ started: 0 });
    expect(await startDueDepartures({ store, publish, now: at("2026-12-10T08:00:00Z") })).toEqual({ started: 1 });
    expect(await startDueDepartures({ store, publish, now: at("2026-12-10T08:05:00Z") })).toEqual({ started: 0 });
    expect(published).toEqual([{ detailType: "Identity.Departed", detail: expect.objectContaining({ sourceEventId: "hr:q", effectiveAt: "2026-12-10T00:00:00.000Z" }) }]);

    // Back on the bus on its day, the same departure starts at once.
    const started = await startOffboarding(envelope("Identity.Departed", published[0]!.detail), { store, startExecution: s.startExecution, now: at("2026-12-10T08:00:00Z") });
    expect(started.action).toBe("started");
    const profile = await store.findSubject({ email: "quin@example.com" });
    expect(await store.queryPrefix(`SUBJECT#${profile!.subjectId}`, "SCHEDULED#")).toEqual([expect.objectContaining({ state: "STARTED" })]);
  });

  it("HR moving the date (same event id or a new one) supersedes the pending departure: it never fires on the old date", async () => {
    const s = starter();
    const deps = (iso: string) => ({ store, startExecution: s.startExecution, now: at(iso) });
    await startOffboarding(departure("hank@example.com", "hr:mv-1", { effectiveAt: "2027-05-01T00:00:00.000Z" }), deps("2026-12-03T10:00:00Z"));
    await startOffboarding(departure("hank@example.com", "hr:mv-1", { effectiveAt: "2027-06-01T00:00:00.000Z" }), deps("2026-12-04T10:00:00Z"));
    const published: unknown[] = [];
    const publish = async (e: unknown[]) => void published.push(...e);
    expect(await startDueDepartures({ store, publish, now: at("2027-05-02T08:00:00Z") })).toEqual({ started: 0 });
    // Moved back again by a new event: the latest word stands.
    await startOffboarding(departure("hank@example.com", "hr:mv-2", { effectiveAt: "2027-05-15T00:00:00.000Z" }), deps("2026-12-05T10:00:00Z"));
    const { subjectId } = (await store.findSubject({ email: "hank@example.com" }))!;
    const mine = await store.queryPrefix(`SUBJECT#${subjectId}`, "SCHEDULED#");
    expect(mine.map((i) => [i.effectiveAt, i.state]).sort()).toEqual([
      ["2027-05-01T00:00:00.000Z", "SUPERSEDED"],
      ["2027-05-15T00:00:00.000Z", "SCHEDULED"],
      ["2027-06-01T00:00:00.000Z", "SUPERSEDED"],
    ]);
    expect(await startDueDepartures({ store, publish, now: at("2027-05-15T08:00:00Z") })).toEqual({ started: 1 });
    expect(await startDueDepartures({ store, publish, now: at("2027-06-01T08:00:00Z") })).toEqual({ started: 0 });
    expect(published).toEqual([{ detailType: "Identity.Departed", detail: expect.objectContaining({ sourceEventId: "hr:mv-2" }) }]);
  });

  it("a departure whose publish failed is released and started by the next run: never lost", async () => {
    const s = starter();
    await startOffboarding(departure("ravi@example.com", "hr:r", { effectiveAt: "2026-12-20T00:00:00.000Z" }), { store, startExecution: s.startExecution, now: at("2026-12-03T10:00:00Z") });
    const failing = async () => {
      throw new Error("bus unavailable");
    };
    await expect(startDueDepartures({ store, publish: failing, now: at("2026-12-20T01:00:00Z") })).rejects.toThrow("bus unavailable");
    const published: unknown[] = [];
    expect(await startDueDepartures({ store, publish: async (e) => void published.push(...e), now: at("2026-12-20T01:05:00Z") })).toEqual({ started: 1 });
  });
});
