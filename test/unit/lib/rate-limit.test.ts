import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Throttled } from "../../../functions/lib/errors";
import { RateLimiter } from "../../../functions/lib/rate-limit";
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
});
