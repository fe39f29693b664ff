import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EntraSettings } from "../../../functions/lib/catalog";
import { GraphClient } from "../../../functions/lib/graph";
import { cachedRoster, readRosterText, s3Location } from "../../../functions/lib/roster";
import { idpStatusReader } from "../../../functions/reconcile-app/reconcile-app";
import { GraphStandIn } from "../../../local/idp-standins";

describe("roster locations", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());

  it("reads s3://bucket/key with GetObject (on AWS), and a local path otherwise", async () => {
    s3.on(GetObjectCommand, { Bucket: "hr-exports", Key: "people/roster.csv" }).resolves({ Body: { transformToString: async () => "email,status\na@example.com,Active\n" } } as never);
    expect(await readRosterText("s3://hr-exports/people/roster.csv")).toContain("a@example.com");
    expect(s3Location("s3://hr-exports/people/roster.csv")).toEqual({ bucket: "hr-exports", key: "people/roster.csv" });
    expect(s3Location("/srv/roster.csv")).toBeUndefined();
    await expect(readRosterText("/no/such/roster.csv")).rejects.toThrow(/roster \/no\/such\/roster.csv cannot be read/);
  });

  it("is read once for the steps of a run, again after a few minutes, and a failed read is not kept", async () => {
    let reads = 0;
    s3.on(GetObjectCommand).callsFake(async () => {
      reads++;
      if (reads === 1) throw Object.assign(new Error("denied"), { name: "AccessDenied" });
      return { Body: { transformToString: async () => "email\nb@example.com\n" } };
    });
    const t0 = new Date("2026-12-03T10:00:00Z");
    await expect(cachedRoster("s3://b/cache-test.csv", t0)).rejects.toThrow(/denied/);
    const first = await cachedRoster("s3://b/cache-test.csv", t0);
    await cachedRoster("s3://b/cache-test.csv", new Date(t0.getTime() + 60_000));
    expect(reads).toBe(2);
    expect(first.entries).toHaveLength(1);
    await cachedRoster("s3://b/cache-test.csv", new Date(t0.getTime() + 10 * 60_000));
    expect(reads).toBe(3);
  });
});

describe("what Entra ID says of a person", () => {
  const graph = new GraphStandIn("recon-tenant", "recon-client", "recon-secret");
  beforeAll(async () => {
    await graph.start();
    process.env.RECON_GRAPH_SECRET = "recon-secret";
  });
  afterAll(() => graph.stop());

  it("enabled, disabled, deleted (from the recycle bin) or absent; only absent is not a departure", async () => {
    graph.addUser("e-1", "on@example.com");
    graph.addUser("e-2", "off@example.com").accountEnabled = false;
    graph.addUser("e-3", "gone@example.com");
    graph.deleteUser("e-3");
    const settings = EntraSettings.parse({ tenantId: "recon-tenant", clientId: "recon-client", graphUrl: graph.graphUrl, tokenUrl: graph.tokenUrl, auth: { type: "client-secret", secretRef: "RECON_GRAPH_SECRET" } });
    const status = idpStatusReader({ entra: new GraphClient(settings) });
    expect(await status({ email: "on@example.com" })).toEqual([{ idp: "entra", status: "enabled", disabled: false }]);
    expect(await status({ entraId: "e-2", email: "off@example.com" })).toEqual([{ idp: "entra", status: "disabled", disabled: true }]);
    expect(await status({ entraId: "e-3" })).toEqual([{ idp: "entra", status: "deleted", disabled: true }]);
    expect(await status({ email: "nobody@example.com" })).toEqual([{ idp: "entra", status: "absent", disabled: false }]);
    expect(await idpStatusReader({})({ email: "on@example.com" })).toEqual([]);
  });
});
