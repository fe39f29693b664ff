import { describe, expect, it } from "vitest";
import { InvalidPattern, matchesPattern } from "../../../functions/lib/pattern";
import { BUS_RULES, OKTA_PARTNER_RULE_PATTERN } from "../../../functions/lib/rules";
import { fixtureJson } from "../../helpers/fixtures";

// The EC2 state-change event used throughout AWS's "Amazon EventBridge event patterns" documentation.
const ec2 = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated", "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.123" },
};

describe("EventBridge pattern semantics (AWS documented examples)", () => {
  it.each([
    ["exact match on nested fields", { source: ["aws.ec2"], detail: { state: ["terminated"] } }, true],
    ["any of several values", { detail: { state: ["pending", "terminated"] } }, true],
    ["exact mismatch", { detail: { state: ["running"] } }, false],
    ["an array in the event matches if any element does", { resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"] }, true],
    ["prefix", { time: [{ prefix: "2017-12-22" }] }, true],
    ["prefix mismatch", { time: [{ prefix: "2018" }] }, false],
    ["prefix ignoring case", { source: [{ prefix: { "equals-ignore-case": "AWS." } }] }, true],
    ["suffix", { "detail-type": [{ suffix: "Notification" }] }, true],
    ["suffix ignoring case", { "detail-type": [{ suffix: { "equals-ignore-case": "notification" } }] }, true],
    ["equals-ignore-case", { source: [{ "equals-ignore-case": "AWS.EC2" }] }, true],
    ["anything-but a value", { detail: { state: [{ "anything-but": "running" }] } }, true],
    ["anything-but excludes", { detail: { state: [{ "anything-but": ["stopped", "terminated"] }] } }, false],
    ["anything-but a prefix", { detail: { state: [{ "anything-but": { prefix: "term" } }] } }, false],
    ["exists true", { detail: { "instance-id": [{ exists: true }] } }, true],
    ["exists false on a present field", { detail: { "instance-id": [{ exists: false }] } }, false],
    ["exists false on a missing field", { detail: { "no-such": [{ exists: false }] } }, true],
    ["numeric range", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }], "x-limit": [{ numeric: ["<", 302] }] } }, true],
    ["numeric out of range", { detail: { "d-count": [{ numeric: ["<", 3] }] } }, false],
    ["numeric equals", { detail: { "d-count": [{ numeric: ["=", 3] }] } }, true],
    ["wildcard", { resources: [{ wildcard: "arn:aws:ec2:*:instance/*" }] }, true],
    ["wildcard mismatch", { source: [{ wildcard: "aws.s3*" }] }, false],
    ["$or: one alternative matches", { $or: [{ detail: { "c-count": [{ numeric: [">", 10] }] } }, { detail: { "d-count": [{ numeric: ["<", 10] }] } }] }, true],
    ["$or: none matches", { $or: [{ source: ["aws.s3"] }, { detail: { state: ["running"] } }] }, false],
    ["a field the event lacks does not match a value", { detail: { missing: ["x"] } }, false],
    ["null matches a null value only", { detail: { state: [null] } }, false],
  ])("%s", (_name, pattern, expected) => {
    expect(matchesPattern(pattern as Record<string, unknown>, ec2)).toBe(expected);
  });

  it("null in the event matches null in the pattern", () => {
    expect(matchesPattern({ detail: { v: [null] } }, { detail: { v: null } })).toBe(true);
  });

  it("refuses malformed patterns instead of matching nothing silently", () => {
    expect(() => matchesPattern({ source: "aws.ec2" } as Record<string, unknown>, ec2)).toThrow(InvalidPattern);
    expect(() => matchesPattern({ detail: { "c-count": [{ numeric: [">"] }] } }, ec2)).toThrow(InvalidPattern);
    expect(() => matchesPattern({ source: [{ cidr: "10.0.0.0/24" }] }, ec2)).toThrow(InvalidPattern);
  });
});

describe("the pipeline's rules against real events", () => {
  const envelope = (detailType: string, source = "revoke.pipeline") => ({ ...ec2, source, "detail-type": detailType, detail: {} });
  const targetsOf = (event: unknown) => BUS_RULES.filter((r) => matchesPattern(r.pattern, event)).map((r) => r.target);

  it("arrivals go to record-arrival, departures to start-offboarding, and nothing else matches", () => {
    expect(targetsOf(envelope("Identity.Arrived"))).toEqual(["record-arrival"]);
    expect(targetsOf(envelope("Identity.Departed"))).toEqual(["start-offboarding"]);
    expect(targetsOf(envelope("Offboarding.Completed"))).toEqual([]);
    expect(targetsOf(envelope("Identity.Departed", "someone.else"))).toEqual([]);
  });

  it("the Okta partner-bus rule matches the real Log Streaming event and nothing of ours", () => {
    const real = fixtureJson<{ events: unknown[] }>("okta/eventbridge-log-streaming.json").events[0];
    expect(matchesPattern(OKTA_PARTNER_RULE_PATTERN, real)).toBe(true);
    expect(matchesPattern(OKTA_PARTNER_RULE_PATTERN, envelope("SystemLog"))).toBe(false);
  });
});
