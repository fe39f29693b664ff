import { describe, expect, it } from "vitest";
import { ScimSettings } from "../../../functions/lib/catalog";
import { Permanent, Throttled, Transient } from "../../../functions/lib/errors";
import { parseRetryAfter, ScimClient } from "../../../functions/lib/scim";
import { fixtureJson } from "../../helpers/fixtures";

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;
const providerResponses = fixtureJson<{ sp_responses: Array<{ case: string; status: number; body?: unknown; headers?: Record<string, string> }> }>("scim/provider-responses.json").sp_responses;
const realResponse = (which: string) => providerResponses.find((r) => r.case.includes(which))!;

/** A fetch that answers from a script and records what was asked. */
function scripted(replies: Reply[]) {
  const calls: Array<{ method: string; url: string; body?: unknown; auth?: string }> = [];
  const impl = (async (url: string | URL, init?: RequestInit) => {
    calls.push({ method: init?.method ?? "GET", url: String(url), body: init?.body ? JSON.parse(String(init.body)) : undefined, auth: (init?.headers as Record<string, string>)?.authorization });
    const reply = replies.shift() ?? { status: 500 };
    if (reply instanceof Error) throw reply;
    const text = reply.body === undefined || reply.body === null ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    return new Response(reply.status === 204 ? null : text, { status: reply.status, headers: reply.headers });
  }) as typeof fetch;
  return { impl, calls };
}

const settings = (over: Partial<Record<string, unknown>> = {}) => ScimSettings.parse({ baseUrl: "https://app.example.com/scim/v2", tokenRef: "T", ...over });
const client = (replies: Reply[], over = {}) => {
  const s = scripted(replies);
  return { c: new ScimClient(settings(over), "secret-token", s.impl, () => new Date("2026-12-03T00:00:00Z")), calls: s.calls };
};

describe("SCIM client", () => {
  it("finds by the IdP's own casing first, then the lower-cased email, and quotes the filter value", async () => {
    const { c, calls } = client([{ status: 200, body: realResponse("filter no match") }, { status: 200, body: { Resources: [{ id: "u1", userName: "alice@example.com", active: true }] } }]);
    const user = await c.findUser(["Alice@Example.com", "alice@example.com"]);
    expect(user).toEqual({ id: "u1", userName: "alice@example.com", active: true });
    expect(decodeURIComponent(calls[0]!.url)).toContain('filter=userName eq "Alice@Example.com"');
    expect(decodeURIComponent(calls[1]!.url)).toContain('filter=userName eq "alice@example.com"');
    expect(calls[0]!.auth).toBe("Bearer secret-token");
  });

  it("escapes quotes in filter values instead of letting them change the filter", async () => {
    const { c, calls } = client([{ status: 200, body: { Resources: [] } }, { status: 200, body: { Resources: [] } }]);
    await c.findUser(['x" or userName pr or "']);
    expect(decodeURIComponent(calls[0]!.url)).toContain('userName eq "x\\" or userName pr or \\""');
  });

  it("refuses to guess when a filter matches more than one account", async () => {
    const { c } = client([{ status: 200, body: { Resources: [{ id: "a" }, { id: "b" }] } }]);
    await expect(c.findUser(["a@example.com"])).rejects.toThrow(Permanent);
  });

  it.each([
    ["patch", { op: "replace", path: "active", value: false }, "PATCH"],
    ["patch-value", { op: "replace", value: { active: false } }, "PATCH"],
  ])("deactivates with %s", async (method, operation, verb) => {
    const { c, calls } = client([{ status: 200, body: realResponse("PATCH deactivate").body }], { deactivate: method });
    expect(await c.deactivate("u1")).toBe(true);
    expect(calls[0]).toMatchObject({ method: verb, url: "https://app.example.com/scim/v2/Users/u1", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [operation] } });
  });

  it("sends the capitalized Replace op to apps that accept only that", async () => {
    const { c, calls } = client([{ status: 204 }], { patchOpCasing: "capitalized" });
    await c.deactivate("u1");
    expect(calls[0]!.body).toMatchObject({ Operations: [{ op: "Replace", path: "active", value: false }] });
  });

  it("DELETE answered 204 (AWS IAM Identity Center) is a deactivation; 404 means already gone", async () => {
    const del = realResponse("DELETE success");
    const { c } = client([{ status: del.status, headers: del.headers }, { status: 404, body: { status: "404", detail: "gone" } }], { deactivate: "delete" });
    expect(await c.deactivate("u1")).toBe(true);
    expect(await c.deactivate("u1")).toBe(false);
  });

  it("429 is Throttled with Retry-After in seconds; 5xx and 409 are Transient", async () => {
    const { c } = client([{ status: 429, headers: { "Retry-After": "7" } }, { status: 503, body: "<html>down</html>" }, { status: 409, body: realResponse("create of existing").body }]);
    const throttled = await c.deactivate("u1").catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(Throttled);
    expect((throttled as Throttled).retryAfterSeconds).toBe(7);
    await expect(c.deactivate("u1")).rejects.toThrow(Transient);
    await expect(c.deactivate("u1")).rejects.toThrow(Transient);
  });

  it("other 4xx are Permanent and keep the provider's detail, even with a string status", async () => {
    const real = realResponse("strict type check");
    const { c } = client([{ status: real.status, body: real.body }]);
    await expect(c.deactivate("u1")).rejects.toThrow(/400: Attribute 'active' expected value type 'boolean'.*\(invalidValue\)/);
  });

  it("connection failures and timeouts are Transient and recorded as such", async () => {
    const timeout = new Error("timed out");
    timeout.name = "TimeoutError";
    const { c } = client([new TypeError("fetch failed"), timeout]);
    await expect(c.getUser("u1")).rejects.toThrow(/connection failed/);
    await expect(c.getUser("u1")).rejects.toThrow(/timed out/);
    expect(c.evidence.map((e) => e.status)).toEqual(["network-error", "timeout"]);
  });

  it("reads active as a boolean, or the string form some providers send", async () => {
    const { c } = client([{ status: 200, body: { id: "u1", active: "False" } }, { status: 200, body: { id: "u1" } }]);
    expect((await c.getUser("u1"))?.active).toBe(false);
    expect((await c.getUser("u1"))?.active).toBeUndefined();
  });

  it("keeps evidence of every request without the token", async () => {
    const { c } = client([{ status: 200, body: { id: "u1", active: false } }]);
    await c.getUser("u1");
    expect(c.evidence).toEqual([{ at: "2026-12-03T00:00:00.000Z", method: "GET", path: "/Users/u1", status: 200, ms: 0 }]);
    expect(JSON.stringify(c.evidence)).not.toContain("secret-token");
  });

  it("error messages that may reach logs carry no filter (personal data)", async () => {
    const { c } = client([{ status: 500 }]);
    const e = (await c.findUser(["alice@example.com"]).catch((x: unknown) => x)) as Error;
    expect(e.message).not.toContain("alice");
  });
});

describe("Retry-After", () => {
  it("is delta-seconds or an HTTP date", () => {
    const now = Date.parse("2026-12-03T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Thu, 03 Dec 2026 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Wed, 02 Dec 2026 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("<seconds>", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("what never counts as found, matched or inactive", () => {
  it("a 404 from the list endpoint is a wrong base URL (Permanent), not 'no such user'", async () => {
    const { c } = client([{ status: 404, body: "<html>Not Found</html>" }]);
    await expect(c.findUser(["a@example.com"])).rejects.toThrow(/base URL looks wrong/);
  });

  it("a provider that ignores the filter and answers someone else is refused", async () => {
    const { c } = client([{ status: 200, body: { Resources: [{ id: "u9", userName: "someone.else@example.com", active: true }] } }]);
    await expect(c.findUser(["a@example.com"])).rejects.toThrow(/does not match/);
  });

  it("matching by email checks the emails of the returned user", async () => {
    const { c } = client([{ status: 200, body: { Resources: [{ id: "u1", userName: "x", emails: [{ value: "A@Example.com" }] }] } }], { matchBy: ["emails.value"] });
    expect(await c.findUser(["a@example.com"])).toMatchObject({ id: "u1" });
  });

  it.each(["yes", "1", "True ", "TRUE"])("active %j is not read as inactive", async (active) => {
    const { c } = client([{ status: 200, body: { id: "u1", active } }]);
    expect((await c.getUser("u1"))?.active).not.toBe(false);
  });
});
