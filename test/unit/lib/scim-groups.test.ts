import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppEntry } from "../../../functions/lib/catalog";
import { ScimClient } from "../../../functions/lib/scim";
import { ScimApp } from "../../../local/scim-app";

const app = new ScimApp({ token: "groups-token" });
beforeAll(async () => {
  process.env.T_SCIM_GROUPS = "groups-token";
  await app.start();
});
afterAll(() => app.stop());

const entry = (scim: Record<string, unknown>) => AppEntry.parse({ id: "g-app", name: "G", mode: "scim", owner: "o", scim: { baseUrl: app.baseUrl, ...scim } });

describe("SCIM roles (Groups) and listing", () => {
  it("finds the groups a user is in and removes that member only, never the others", async () => {
    const leaver = app.jitCreate("leaver@example.com");
    const stayer = app.jitCreate("stayer@example.com");
    const admins = app.addGroup("admins", [leaver.id, stayer.id]);
    const finance = app.addGroup("finance", [leaver.id]);
    app.addGroup("others", [stayer.id]);
    const client = await ScimClient.forApp(entry({ tokenRef: "T_SCIM_GROUPS", groups: true }));
    expect((await client.groupsOf(leaver.id)).map((g) => g.displayName).sort()).toEqual(["admins", "finance"]);
    for (const g of await client.groupsOf(leaver.id)) await client.removeFromGroup(g.id, leaver.id);
    expect(app.groups.get(admins.id)!.members).toEqual([{ value: stayer.id }]);
    expect(app.groups.get(finance.id)!.members ?? []).toEqual([]);
    expect(await client.groupsOf(leaver.id)).toEqual([]);
    const patches = client.evidence.filter((e) => e.method === "PATCH");
    expect(patches).toHaveLength(2);
    // Removing again is the state wanted, whatever the provider answers for a member already gone.
    await client.removeFromGroup(admins.id, leaver.id);
  });

  it("pages through every account with startIndex and count", async () => {
    for (let i = 0; i < 5; i++) app.jitCreate(`page${i}@example.com`);
    const client = await ScimClient.forApp(entry({ tokenRef: "T_SCIM_GROUPS" }));
    const names: string[] = [];
    for await (const u of client.listUsers(2)) names.push(u.userName ?? "");
    expect(names.length).toBe(app.users.size);
    expect(client.evidence.filter((e) => e.path.startsWith("/Users?startIndex")).length).toBeGreaterThanOrEqual(Math.ceil(app.users.size / 2));
  });

  it("authenticates with OAuth 2.0 client credentials when the app issues tokens", async () => {
    const asked: URLSearchParams[] = [];
    const tokenServer = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        asked.push(new URLSearchParams(body));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "groups-token", token_type: "Bearer", expires_in: "3600" }));
      });
    });
    await new Promise<void>((r) => tokenServer.listen(0, "127.0.0.1", () => r()));
    process.env.T_SCIM_CLIENT_SECRET = "shh";
    const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oauth/token`;
    const client = await ScimClient.forApp(entry({ oauth: { tokenUrl, clientId: "revoke", clientSecretRef: "T_SCIM_CLIENT_SECRET", scope: "scim" } }));
    expect(await client.findUser(["stayer@example.com"])).toMatchObject({ userName: "stayer@example.com" });
    expect(Object.fromEntries(asked[0]!)).toEqual({ grant_type: "client_credentials", client_id: "revoke", client_secret: "shh", scope: "scim" });
    tokenServer.close();
  });

  it("a catalog entry needs exactly one way to authenticate", () => {
    expect(() => entry({})).toThrow(/exactly one of tokenRef or oauth/);
    expect(() => entry({ tokenRef: "X", oauth: { tokenUrl: "https://a.example.com/t", clientId: "c", clientSecretRef: "S" } })).toThrow(/exactly one/);
  });
});
