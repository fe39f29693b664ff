import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Throttled } from "../../../functions/lib/errors";
import { RateLimiter, reservationSize } from "../../../functions/lib/rate-limit";
import type { Store } from "../../../functions/lib/store";
import type { LocalDynamo } from "../../../local/dynamo";
import { testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
beforeAll(async () => ({ store, dynamo } = await testStore()));
afterAll(() => dynamo.close());

/** A clock that only moves when the limiter sleeps. */
function fakeTime(start: number) {
  let t = start;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (slept.push(ms), (t += ms)), slept };
}

describe("rate limits across concurrent runs", () => {
  it("lets calls through up to the limit in a minute, then waits for the next minute", async () => {
    const time = fakeTime(Date.parse("2026-12-03T12:00:10Z"));
    const limiter = new RateLimiter(store, time.now, time.sleep, 60_000);
    for (let i = 0; i < 5; i++) await limiter.acquire({ bucket: "scim:crm", perMinute: 5 });
    expect(time.slept).toEqual([]);
    await limiter.acquire({ bucket: "scim:crm", perMinute: 5 });
    expect(time.slept).toHaveLength(1);
    expect(time.slept[0]).toBeGreaterThanOrEqual(50_000);
    expect(new Date(time.now()).toISOString() >= "2026-12-03T12:01:00.000Z").toBe(true);
  });

  it("limiters in different containers share the bucket, because the counter is in the table", async () => {
    const time = fakeTime(Date.parse("2026-12-03T13:00:00Z"));
    const a = new RateLimiter(store, time.now, time.sleep, 0);
    const b = new RateLimiter(store, time.now, time.sleep, 0);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acquire({ bucket: "scim:slack-org", perMinute: 6 })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(6);
    expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof Throttled)).toBe(true);
  });

  it("a wait longer than a Lambda can afford is Throttled, with when to come back, for the state machine's backoff", async () => {
    const time = fakeTime(Date.parse("2026-12-03T14:00:05Z"));
    const limiter = new RateLimiter(store, time.now, time.sleep, 20_000);
    await limiter.acquire({ bucket: "okta:https://x.okta.com", perMinute: 1 });
    const e = (await limiter.acquire({ bucket: "okta:https://x.okta.com", perMinute: 1 }).catch((x: unknown) => x)) as Throttled;
    expect(e).toBeInstanceOf(Throttled);
    expect(e.retryAfterSeconds).toBe(55);
  });

  it("a busy process reserves a few calls per table write, and no process together with others ever passes the limit", async () => {
    expect([5, 199, 200, 1000, 3000, 100_000].map(reservationSize)).toEqual([1, 1, 2, 10, 10, 10]);
    const time = fakeTime(Date.parse("2026-12-03T15:00:00Z"));
    let writes = 0;
    // Two containers (each its own pool of reserved calls) on one table.
    const container = () => ({ reserveBelow: (...args: Parameters<Store["reserveBelow"]>) => (writes++, store.reserveBelow(...args)) });
    const a = new RateLimiter(container(), time.now, time.sleep, 0);
    const b = new RateLimiter(container(), time.now, time.sleep, 0);
    const limit = { bucket: "scim:busy", perMinute: 1005 };
    const results = await Promise.allSettled(Array.from({ length: 1100 }, (_, i) => (i % 3 ? a : b).acquire(limit)));
    const granted = results.filter((r) => r.status === "fulfilled").length;
    // Never more than the limit; at most one batch per container short of it is stranded in the other's pool.
    expect(granted).toBeLessThanOrEqual(1005);
    expect(granted).toBeGreaterThanOrEqual(1005 - 2 * 10);
    expect((await store.getItem("RATE#scim:busy", String(Math.floor(time.now() / 60_000))))?.used).toBeLessThanOrEqual(1005);
    // Far fewer table writes than calls.
    expect(writes).toBeLessThan(granted / 5);
  });
});
