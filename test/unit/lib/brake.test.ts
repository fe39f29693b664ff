import { describe, expect, it } from "vitest";
import { limitInForce } from "../../../functions/lib/brake";
import { BrakeSettings } from "../../../functions/lib/catalog";
import type { Store } from "../../../functions/lib/store";

const withActive = (active: number) => ({ activeCount: async () => active }) as unknown as Store;

describe("the brake's limit in force", () => {
  it("is the count alone without a percentage", async () => {
    expect(await limitInForce(withActive(10_000), BrakeSettings.parse({ maxDepartures: 25 }))).toMatchObject({ limit: 25, basis: "25 per 60 min" });
  });

  it("is the percentage of active people when that is lower than the count", async () => {
    expect(await limitInForce(withActive(200), BrakeSettings.parse({ maxDepartures: 25, maxPercentOfActive: 5 }))).toMatchObject({ limit: 10, basis: "5% of 200 active people per 60 min" });
    expect(await limitInForce(withActive(2_000), BrakeSettings.parse({ maxDepartures: 25, maxPercentOfActive: 5 }))).toMatchObject({ limit: 25 });
  });

  it("never falls below minDepartures (default 3): 5% of a small estate would hold every ordinary leaver", async () => {
    for (const active of [0, 1, 19, 40]) {
      const { limit, basis } = await limitInForce(withActive(active), BrakeSettings.parse({ maxDepartures: 25, maxPercentOfActive: 5 }));
      expect(limit, `${active} active`).toBe(3);
      expect(basis).toContain(`5% of ${active} active people is ${Math.floor(active * 0.05)}`);
    }
    expect((await limitInForce(withActive(10), BrakeSettings.parse({ maxDepartures: 25, maxPercentOfActive: 5, minDepartures: 1 }))).limit).toBe(1);
    // The count still caps it.
    expect((await limitInForce(withActive(10), BrakeSettings.parse({ maxDepartures: 2, maxPercentOfActive: 5 }))).limit).toBe(2);
  });
});
