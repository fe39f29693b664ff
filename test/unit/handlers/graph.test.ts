import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entraUserCheck } from "../../../functions/entra-user-check/entra-user-check";
import { graphHook } from "../../../functions/graph-hook/graph-hook";
import { manageGraphSubscription } from "../../../functions/graph-subscription/graph-subscription";
import { EntraSettings } from "../../../functions/lib/catalog";
import { GraphClient } from "../../../functions/lib/graph";
import type { Store } from "../../../functions/lib/store";
import type { LocalDynamo } from "../../../local/dynamo";
import { GraphStandIn } from "../../../local/idp-standins";
import { fixtureJson } from "../../helpers/fixtures";
import { envelope, testStore } from "../../helpers/store";

const fixtures = fixtureJson<Array<{ kind: string; body: unknown; expected_response?: { status: number } }>>("entra/graph-change-notifications.json");
const byKind = (kind: string) => fixtures.filter((f) => f.kind === kind);

function request(method: string, body: unknown, query?: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    rawPath: "/hooks/graph",
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    headers: {},
    queryStringParameters: query,
    requestContext: { http: { method } },
  } as unknown as APIGatewayProxyEventV2;
}
function sink() {
  const published: Array<{ detailType: string; detail: Record<string, unknown> }> = [];
  return { published, publish: async (e: Array<{ detailType: string; detail: unknown }>) => void published.push(...(e as typeof published)) };
}

describe("Graph notification endpoint (real fixtures)", () => {
  it("echoes the validation token decoded, as text/plain, within the handshake", async () => {
    const res = await graphHook(request("POST", undefined, { validationToken: "Validation: Testing client application reachability for subscription Request-Id: 8a6d+ == /" }), { clientState: async () => "x", publish: sink().publish });
    expect(res).toMatchObject({ statusCode: byKind("validation_request")[0]!.expected_response!.status, headers: { "content-type": "text/plain" } });
    expect(res.body).toBe("Validation: Testing client application reachability for subscription Request-Id: 8a6d+ == /");
  });

  it("a notification about a user's mail is not about a user: its resourceData.id is a message id", async () => {
    const s = sink();
    const res = await graphHook(request("POST", byKind("change_notification_webhook")[0]!.body), { clientState: async () => "secretClientValue", publish: s.publish });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body!)).toMatchObject({ accepted: 0, ignored: 1 });
    expect(s.published).toEqual([]);
  });

  it("UserUpdated and UserDeleted delivered through Event Grid (CloudEvents) become user changes", async () => {
    const s = sink();
    const events = byKind("user_change_notification_via_event_grid").map((f) => f.body);
    const res = await graphHook(request("POST", events), { clientState: async () => "<guid>", publish: s.publish });
    expect(res.statusCode).toBe(202);
    expect(s.published.map((p) => [p.detailType, p.detail.entraId, p.detail.changeType])).toEqual([
      ["Entra.UserChanged", "<user-id>", "updated"],
      ["Entra.UserChanged", "<user-id>", "deleted"],
    ]);
  });

  it("a lifecycle notification becomes a subscription lifecycle event", async () => {
    const s = sink();
    await graphHook(request("POST", byKind("lifecycle_reauthorizationRequired")[0]!.body), { clientState: async () => "{secret client state}", publish: s.publish });
    expect(s.published).toEqual([{ detailType: "Graph.SubscriptionLifecycle", detail: expect.objectContaining({ lifecycleEvent: "reauthorizationRequired", subscriptionId: "e3898f08-5cd0-4a6a-80fc-6addbfb73b7b" }) }]);
  });

  it("the validation echo is only for a configured endpoint, and only for a token-shaped value", async () => {
    expect((await graphHook(request("POST", undefined, { validationToken: "abc" }), { clientState: async () => undefined, publish: sink().publish })).statusCode).toBe(404);
    const html = await graphHook(request("POST", undefined, { validationToken: "<script>alert(1)</script>" }), { clientState: async () => "x", publish: sink().publish });
    expect(html.statusCode).toBe(400);
    expect(html.body).not.toContain("<script>");
  });

  it("a wrong clientState is 401 and nothing is published; an unconfigured endpoint is 404", async () => {
    const s = sink();
    expect((await graphHook(request("POST", byKind("lifecycle_reauthorizationRequired")[0]!.body), { clientState: async () => "another", publish: s.publish })).statusCode).toBe(401);
    expect(s.published).toEqual([]);
    expect((await graphHook(request("POST", { value: [] }), { clientState: async () => undefined, publish: s.publish })).statusCode).toBe(404);
    expect((await graphHook(request("POST", { nope: 1 }), { clientState: async () => "x", publish: s.publish })).statusCode).toBe(400);
    // An empty delivery carries no clientState at all: it authenticates nothing.
    expect((await graphHook(request("POST", { value: [] }), { clientState: async () => "x", publish: s.publish })).statusCode).toBe(401);
    // A user id with a newline or an escape is no Graph id: dropped, never passed on.
    const forged = { value: [{ clientState: "x", changeType: "updated", resource: "Users/entra-1\n\u001b[31m", resourceData: { id: "entra-1\n\u001b[31m" } }] };
    expect((await graphHook(request("POST", forged), { clientState: async () => "x", publish: s.publish })).statusCode).toBe(202);
    expect(s.published).toEqual([]);
  });
});

describe("looking users up and sweeping users/delta", () => {
  const graph = new GraphStandIn("t-graph", "c-graph", "s-graph");
  let store: Store;
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    process.env.T_GRAPH_SECRET_2 = "s-graph";
    await graph.start();
    ({ store, dynamo } = await testStore());
  });
  afterAll(async () => {
    await graph.stop();
    await dynamo.close();
  });
  const client = () => new GraphClient(EntraSettings.parse({ tenantId: "t-graph", clientId: "c-graph", graphUrl: graph.graphUrl, tokenUrl: graph.tokenUrl, auth: { type: "client-secret", secretRef: "T_GRAPH_SECRET_2" } }));
  const now = () => new Date("2026-12-03T12:00:00Z");
  const changed = (entraId: string, changeType = "updated") => envelope("Entra.UserChanged", { entraId, changeType, receivedAt: "t" });

  it("a disabled user is one departure per user and state, whatever the number of notifications", async () => {
    graph.addUser("u-dis", "dis@example.com").accountEnabled = false;
    const s = sink();
    for (let i = 0; i < 3; i++) await entraUserCheck(changed("u-dis"), { graph: client, store, publish: s.publish, now });
    expect(new Set(s.published.map((p) => p.detail.sourceEventId))).toEqual(new Set(["entra:u-dis:disabled"]));
    expect(s.published[0]).toMatchObject({ detailType: "Identity.Departed", detail: { subject: { entraId: "u-dis", email: "dis@example.com" }, source: "entra" } });
  });

  it("a deleted user is read from the recycle bin for their email; an enabled user is nothing", async () => {
    graph.addUser("u-del", "del@example.com");
    graph.deleteUser("u-del");
    graph.addUser("u-ok", "ok@example.com");
    const s = sink();
    await entraUserCheck(changed("u-del", "deleted"), { graph: client, store, publish: s.publish, now });
    await entraUserCheck(changed("u-ok"), { graph: client, store, publish: s.publish, now });
    expect(s.published.map((p) => p.detail)).toEqual([expect.objectContaining({ subject: { entraId: "u-del", email: "del@example.com" }, sourceEventId: "entra:u-del:deleted" })]);
  });

  it("an account is its sign-in name's: a disabled admin account carrying its person's mail does not stand for the person", async () => {
    await store.resolveSubject({ email: "alice.m@example.com" }, "t");
    graph.addUser("u-adm", "alice-adm@example.com", "alice.m@example.com").accountEnabled = false;
    const s = sink();
    await entraUserCheck(changed("u-adm"), { graph: client, store, publish: s.publish, now });
    expect(s.published.map((p) => p.detail.subject)).toEqual([{ entraId: "u-adm", email: "alice-adm@example.com" }]);
    // The sweep does not take it for her either.
    const swept = sink();
    await entraUserCheck({ action: "sweep" }, { graph: client, store, publish: swept.publish, now });
    expect(swept.published.map((p) => (p.detail.subject as { email?: string }).email)).not.toContain("alice.m@example.com");
    graph.users.delete("u-adm");
  });

  it("the sweep pages through users/delta, acts only on people it knows who are still active, and saves its cursor", async () => {
    await store.resolveSubject({ email: "known.gone@example.com" }, "t");
    graph.addUser("u-known", "known.gone@example.com").accountEnabled = false;
    graph.addUser("u-stranger", "stranger@example.com").accountEnabled = false;
    const s = sink();
    const result = await entraUserCheck({ action: "sweep" }, { graph: client, store, publish: s.publish, now });
    expect(result.checked).toBe(graph.users.size + graph.deletedUsers.size);
    expect(s.published.map((p) => (p.detail.subject as { entraId: string }).entraId)).toEqual(["u-known"]);
    expect(await store.getItem("ENTRA", "DELTA")).toMatchObject({ link: expect.stringContaining("deltatoken") });
  });

  it("a notification about an id Entra has never heard of, and nor have we, starts nothing", async () => {
    const s = sink();
    expect(await entraUserCheck(changed("no-such-id"), { graph: client, store, publish: s.publish, now })).toMatchObject({ skipped: "unknown user" });
    expect(s.published).toEqual([]);
  });

  it("does nothing, and says so, when Entra ID is not configured", async () => {
    expect(await entraUserCheck({ action: "sweep" }, { graph: () => undefined, store, publish: sink().publish, now })).toMatchObject({ skipped: expect.any(String) });
  });

  describe("the subscription", () => {
    const settings = async () => ({ notificationUrl: "https://revoke.example.com/hooks/graph", lifecycleNotificationUrl: "https://revoke.example.com/hooks/graph/lifecycle", clientState: "cs" });
    const deps = (at = now, s = sink()) => ({ graph: client, settings, store, publish: s.publish, now: at });

    it("is created when there is none, left alone while current, renewed near expiry", async () => {
      const created = await manageGraphSubscription({ action: "renew" }, deps());
      expect(created).toMatchObject({ action: "created", id: expect.any(String) });
      expect(graph.subscriptions.get(created.id!)).toMatchObject({ notificationUrl: "https://revoke.example.com/hooks/graph", clientState: "cs" });
      expect((await manageGraphSubscription({ action: "renew" }, deps())).action).toBe("current");
      const later = () => new Date(Date.parse("2026-12-03T12:00:00Z") + 26 * 86_400_000);
      const renewed = await manageGraphSubscription({ action: "renew" }, deps(later));
      expect(renewed).toMatchObject({ action: "renewed", id: created.id });
      expect(Date.parse(renewed.expirationDateTime!)).toBeGreaterThan(Date.parse(created.expirationDateTime!));
    });

    it("is reauthorized when Graph asks, recreated when removed or gone, and a missed signal asks for a sweep", async () => {
      const currentId = async () => String((await store.getItem("GRAPH", "SUBSCRIPTION"))!.id);
      const lifecycle = (lifecycleEvent: string, subscriptionId: string) => envelope("Graph.SubscriptionLifecycle", { lifecycleEvent, subscriptionId, receivedAt: "t" });
      expect((await manageGraphSubscription(lifecycle("reauthorizationRequired", await currentId()), deps())).action).toBe("reauthorized");
      const before = await currentId();
      expect((await manageGraphSubscription(lifecycle("subscriptionRemoved", before), deps())).action).toBe("created");
      expect(await currentId()).not.toBe(before);
      graph.subscriptions.clear();
      expect((await manageGraphSubscription(lifecycle("reauthorizationRequired", await currentId()), deps())).action).toBe("created");
      const s = sink();
      expect((await manageGraphSubscription(lifecycle("missed", await currentId()), deps(now, s))).action).toBe("sweep-requested");
      expect(s.published).toEqual([{ detailType: "Entra.SweepRequested", detail: expect.any(Object) }]);
    });

    it("repeated, stale or unknown lifecycle notifications create nothing", async () => {
      const count = graph.subscriptions.size;
      const old = envelope("Graph.SubscriptionLifecycle", { lifecycleEvent: "subscriptionRemoved", subscriptionId: "an-older-one", receivedAt: "t" });
      for (let i = 0; i < 5; i++) expect((await manageGraphSubscription(old, deps())).action).toBe("skipped");
      const current = String((await store.getItem("GRAPH", "SUBSCRIPTION"))!.id);
      expect((await manageGraphSubscription(envelope("Graph.SubscriptionLifecycle", { lifecycleEvent: "whatever", subscriptionId: current, receivedAt: "t" }), deps())).action).toBe("skipped");
      expect(graph.subscriptions.size).toBe(count);
    });
  });
});
