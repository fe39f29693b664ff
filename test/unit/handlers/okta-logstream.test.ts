import { describe, expect, it } from "vitest";
import type { CanonicalEvent } from "../../../functions/lib/events";
import { acceptLogStream } from "../../../functions/okta-logstream/okta-logstream";
import { fixtureJson, oktaEvent, testCatalog } from "../../helpers/fixtures";

describe("Okta Log Streaming consumer (partner bus)", () => {
  const streamed = () => structuredClone(fixtureJson<{ events: Array<Record<string, unknown>> }>("okta/eventbridge-log-streaming.json").events[0]!);
  const sink = () => {
    const published: CanonicalEvent[] = [];
    return { published, publish: async (e: CanonicalEvent[]) => (published.push(...e), e.map(() => "id")) };
  };

  it("the real streamed event (an admin-app access) is ignored, not an error", async () => {
    const s = sink();
    expect(await acceptLogStream(streamed(), { catalog: testCatalog, publish: s.publish })).toEqual({ accepted: 0, ignored: 1 });
  });

  it("a streamed deactivation is put on the bus as a departure", async () => {
    const s = sink();
    const envelope = { ...streamed(), detail: oktaEvent("user.lifecycle.deactivate") };
    await acceptLogStream(envelope, { catalog: testCatalog, publish: s.publish });
    expect(s.published.map((e) => e.detailType)).toEqual(["Identity.Departed"]);
  });

  it("an event that does not normalize throws, so it ends in the on-failure queue with the reason", async () => {
    const envelope = { ...streamed(), detail: { eventType: "user.lifecycle.deactivate", published: "2020-01-01T00:00:00Z" } };
    await expect(acceptLogStream(envelope, { catalog: testCatalog, publish: sink().publish })).rejects.toThrow(/uuid is missing/);
  });
});
