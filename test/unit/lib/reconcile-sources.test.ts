import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EntraSettings } from "../../../functions/lib/catalog";
import { GraphClient } from "../../../functions/lib/graph";
import { cachedRoster, loadRoster, readRosterText, s3Location } from "../../../functions/lib/roster";
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

describe("the roster from an HR system's API (https://…)", () => {
  let server: Server;
  let base = "";
  let answer: { status: number; body: string; type: string } = { status: 200, body: "", type: "application/json" };
  const seen: Array<string | undefined> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== "Bearer hr-api-token") return void res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
      res.writeHead(answer.status, { "content-type": answer.type }).end(answer.body);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.RECON_HR_API_AUTH = "Bearer hr-api-token";
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it("GETs it with the configured Authorization, JSON (a Workday-style Report_Entry too) or CSV", async () => {
    answer = { status: 200, type: "application/json", body: JSON.stringify({ Report_Entry: [{ Employee_ID: "21001", Work_Email: "w@example.com", Worker_Status: "Terminated" }] }) };
    const roster = await loadRoster(`${base}/ccx/service/customreport2/acme/roster?format=json`, new Date("2026-12-03T00:00:00Z"), "RECON_HR_API_AUTH");
    expect(roster.entries).toEqual([expect.objectContaining({ employeeId: "21001", email: "w@example.com", departed: true })]);
    expect(roster.source).toBe(`${base}/ccx/service/customreport2/acme/roster`);
    answer = { status: 200, type: "text/csv", body: "id,email,status\n7,c@example.com,Active\n" };
    expect((await loadRoster(`${base}/export.csv`, new Date(), "RECON_HR_API_AUTH")).entries).toHaveLength(1);
    expect(seen.at(-1)).toBe("Bearer hr-api-token");
  });

  it("a refused credential is configuration (the run fails, loudly); an outage is retried", async () => {
    await expect(readRosterText(`${base}/roster`)).rejects.toMatchObject({ name: "Permanent" });
    answer = { status: 503, type: "text/plain", body: "down" };
    await expect(readRosterText(`${base}/roster`, "RECON_HR_API_AUTH")).rejects.toMatchObject({ name: "Transient" });
    answer = { status: 204, type: "text/plain", body: "" };
    await expect(readRosterText(`${base}/roster`, "RECON_HR_API_AUTH")).rejects.toMatchObject({ name: "ConfigError" });
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
