import { describe, expect, it } from "vitest";
import { toIsoTimestamp } from "../../../functions/lib/time";

describe("vendor timestamps", () => {
  it.each([
    ["2026-01-31T18:42:00+0000", "2026-01-31T18:42:00.000Z"],
    ["2027-12-31 10:00:00 +0100", "2027-12-31T09:00:00.000Z"],
    ["2027-12-31 10:00:00+01:00", "2027-12-31T09:00:00.000Z"],
    ["20271231", "2027-12-31T00:00:00.000Z"],
    ["2027-12-31", "2027-12-31T00:00:00.000Z"],
    ["1605550512", "2020-11-16T18:15:12.000Z"],
    ["1605550512862", "2020-11-16T18:15:12.862Z"],
    [1605550512, "2020-11-16T18:15:12.000Z"],
    [20271231, "2027-12-31T00:00:00.000Z"],
  ])("%j → %s", (input, iso) => {
    expect(toIsoTimestamp(input)).toBe(iso);
  });

  it.each(["2027-02-30", "20271332", "2027-02-30T10:00:00Z", "soon", "", "12345", null, {}, 2027, 0, -1, 20270230, 1.5e20, Number.NaN])("%j is refused, never guessed", (input) => {
    expect(() => toIsoTimestamp(input, "effectiveDate")).toThrow(/effectiveDate is not a (timestamp|calendar date)/);
  });
});
