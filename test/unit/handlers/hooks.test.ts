import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { hrHook } from "../../../functions/hr-hook/hr-hook";
import type { CanonicalEvent } from "../../../functions/lib/events";
import { hmacHex } from "../../../functions/lib/webhook-auth";
import { oktaHook } from "../../../functions/okta-hook/okta-hook";
import { fixtureJson, oktaEvent, testCatalog } from "../../helpers/fixtures";

function http(method: string, rawPath: string, body: string | undefined, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { rawPath, body, isBase64Encoded: false, headers: lower, requestContext: { http: { method } } } as unknown as APIGatewayProxyEventV2;
}
function sink() {
  const published: CanonicalEvent[] = [];
  return { published, publish: async (events: CanonicalEvent[]) => (published.push(...events), events.map(() => "id")) };
}
const verification = fixtureJson<{ request: { headers: Record<string, string> }; expected_response: { status: number; body: unknown } }>("okta/event-hook-verification.json");

describe("Okta event hook", () => {
  const secret = "Basic c2VjcmV0OnZhbHVl";
  const deps = (s = sink()) => ({ catalog: testCatalog, publish: s.publish, secret: async () => secret });

  it("answers the documented one-time verification with the challenge, when the secret matches", async () => {
    const res = await oktaHook(http("GET", "/hooks/okta", undefined, { ...verification.request.headers, Authorization: secret }), deps());
    expect(res.statusCode).toBe(verification.expected_response.status);
    expect(JSON.parse(res.body!)).toEqual(verification.expected_response.body);
  });

  it.each([[undefined], ["Basic wrong"], [`${secret} `], [""]])("refuses Authorization %j with 401, publishing nothing", async (auth) => {
    const s = sink();
    const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
    const res = await oktaHook(http("POST", "/hooks/okta", JSON.stringify(fixtureJson<Array<{ body: unknown }>>("okta/event-hook-deliveries.json")[0]!.body), headers), deps(s));
    expect(res.statusCode).toBe(401);
    expect(s.published).toEqual([]);
  });

  it("a delivery with several events is normalized and published, once authenticated", async () => {
    const s = sink();
    const delivery = { ...fixtureJson<Array<{ body: Record<string, unknown> }>>("okta/event-hook-deliveries.json")[0]!.body, data: { events: [oktaEvent("user.authentication.sso"), oktaEvent("user.lifecycle.deactivate")] } };
    const res = await oktaHook(http("POST", "/hooks/okta", JSON.stringify(delivery), { authorization: secret }), deps(s));
    expect(res.statusCode).toBe(200);
    expect(s.published.map((e) => e.detailType)).toEqual(["Identity.Arrived", "Identity.Departed"]);
  });

  it("a POST that is not a hook delivery is 400 even with the right secret", async () => {
    const res = await oktaHook(http("POST", "/hooks/okta", JSON.stringify(oktaEvent("user.lifecycle.deactivate")), { authorization: secret }), deps());
    expect(res.statusCode).toBe(400);
  });

  it("answers 404 when no secret is configured, so an unconfigured hook accepts nothing", async () => {
    const res = await oktaHook(http("GET", "/hooks/okta", undefined, verification.request.headers), { catalog: testCatalog, publish: sink().publish, secret: async () => undefined });
    expect(res.statusCode).toBe(404);
  });
});

describe("HR webhooks (HMAC-SHA256, timestamp window)", () => {
  const secret = "hr-shared-secret";
  const now = Date.parse("2026-12-03T12:00:00Z");
  const ts = String(Math.floor(now / 1000));
  const deps = (s = sink()) => ({ catalog: testCatalog, publish: s.publish, now: () => now, settingsFor: async () => ({ secret, toleranceSeconds: 300 }) });
  const termination = JSON.stringify({ type: "revoke.hr.termination", eventId: "e1", employeeId: "E1", email: "a@example.com", effectiveDate: "2026-12-03" });
  const signHr = (body: string, t = ts) => ({ "X-Revoke-Timestamp": t, "X-Revoke-Signature": `v1=${hmacHex(secret, `${t}.${body}`)}` });
  const signBamboo = (body: string, t = ts) => ({ "X-BambooHR-Timestamp": t, "X-BambooHR-Signature": hmacHex(secret, `${body}${t}`) });

  it("a correctly signed generic termination is accepted", async () => {
    const s = sink();
    const res = await hrHook(http("POST", "/hooks/hr", termination, signHr(termination)), deps(s));
    expect(res.statusCode).toBe(200);
    expect(s.published[0]!.detail.sourceEventId).toBe("hr:e1");
  });

  it.each([
    ["a wrong signature", (b: string) => ({ ...signHr(b), "X-Revoke-Signature": `v1=${"0".repeat(64)}` }), /does not verify/],
    ["no signature", (b: string) => ({ "X-Revoke-Timestamp": signHr(b)["X-Revoke-Timestamp"] }), /does not verify/],
    ["a body changed after signing", (b: string) => signHr(b.replace("E1", "E2")), /does not verify/],
    ["a timestamp outside the window (a replay)", (b: string) => signHr(b, String(Number(ts) - 3600)), /outside the 300 s window/],
    ["no timestamp", (b: string) => ({ "X-Revoke-Signature": signHr(b)["X-Revoke-Signature"] }), /timestamp header is missing/],
  ])("refuses %s with 401", async (_name, headers, reason) => {
    const s = sink();
    const res = await hrHook(http("POST", "/hooks/hr", termination, headers(termination)), deps(s));
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body!).error).toMatch(reason);
    expect(s.published).toEqual([]);
  });

  it("JSON labelled as a form (curl --data's default) is read as the JSON it is, on both paths", async () => {
    const s = sink();
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    expect((await hrHook(http("POST", "/hooks/hr", termination, { ...signHr(termination), ...form }), deps(s))).statusCode).toBe(200);
    const bamboo = JSON.stringify({ employees: [{ action: "Deleted", fields: {}, id: "9", timestamp: "2026-12-03T10:00:00+0000" }] });
    expect((await hrHook(http("POST", "/hooks/bamboohr", bamboo, { ...signBamboo(bamboo), ...form }), deps(s))).statusCode).toBe(200);
    expect(s.published.map((p) => p.detail.sourceEventId)).toEqual(["hr:e1", "bamboohr:9:Deleted:2026-12-03T10:00:00.000Z"]);
  });

  it("a cancellation of a pending termination becomes Identity.DepartureCancelled", async () => {
    const s = sink();
    const body = JSON.stringify({ type: "revoke.hr.termination.cancelled", eventId: "c1", cancelsEventId: "e1", employeeId: "E1", email: "a@example.com" });
    await hrHook(http("POST", "/hooks/hr", body, signHr(body)), deps(s));
    expect(s.published[0]).toMatchObject({ detailType: "Identity.DepartureCancelled", detail: { cancels: "hr:e1", sourceEventId: "hr:c1" } });
  });

  it("BambooHR: JSON signed over body + timestamp is accepted (real fixture shape)", async () => {
    const s = sink();
    const body = JSON.stringify({ employees: [{ action: "Updated", changedFields: ["Status"], fields: { Status: "Terminated", "Work Email": "b@example.com" }, id: "12345", timestamp: "2026-12-03T10:00:00+0000" }] });
    const res = await hrHook(http("POST", "/hooks/bamboohr", body, signBamboo(body)), deps(s));
    expect(res.statusCode).toBe(200);
    expect(s.published[0]!.detail.subject).toEqual({ hrId: "12345", email: "b@example.com" });
  });

  it("BambooHR: the form-encoded format is accepted too", async () => {
    const s = sink();
    const body = "employees[0][action]=Updated&employees[0][id]=12345&employees[0][timestamp]=2026-12-03T10%3A00%3A00%2B0000&employees[0][fields][Status]=Terminated&employees[0][fields][Work%20Email]=b%40example.com";
    const res = await hrHook(http("POST", "/hooks/bamboohr", body, { ...signBamboo(body), "Content-Type": "application/x-www-form-urlencoded" }), deps(s));
    expect(res.statusCode).toBe(200);
    expect(s.published[0]!.detail).toMatchObject({ subject: { hrId: "12345", email: "b@example.com" }, occurredAt: "2026-12-03T10:00:00.000Z" });
  });

  it("BambooHR: the generic scheme's signature does not verify there (schemes are not interchangeable)", async () => {
    const body = JSON.stringify(fixtureJson<Array<{ body: unknown }>>("hr/bamboohr-webhooks.json")[1]!.body);
    const res = await hrHook(http("POST", "/hooks/bamboohr", body, { "X-BambooHR-Timestamp": ts, "X-BambooHR-Signature": signHr(body)["X-Revoke-Signature"].slice(3) }), deps());
    expect(res.statusCode).toBe(401);
  });

  it("timestamps are unix seconds only: a millisecond timestamp is refused", async () => {
    const ms = String(now);
    expect((await hrHook(http("POST", "/hooks/hr", termination, signHr(termination, ms)), deps())).statusCode).toBe(401);
  });

  it("BambooHR: digits moved from the body's end into the timestamp do not verify (a splice replay)", async () => {
    const body = "employees[0][action]=Deleted&employees[0][id]=40180";
    const original = signBamboo(body);
    const spliced = { "X-BambooHR-Timestamp": `180${original["X-BambooHR-Timestamp"]}`, "X-BambooHR-Signature": original["X-BambooHR-Signature"] };
    const res = await hrHook(http("POST", "/hooks/bamboohr", body.slice(0, -3), { ...spliced, "Content-Type": "application/x-www-form-urlencoded" }), { ...deps(), now: () => now + 1000 });
    expect(res.statusCode).toBe(401);
  });

  it("BambooHR: a large form delivery is processed whole, the termination at its end included", async () => {
    const s = sink();
    const parts: string[] = [];
    for (let i = 0; i < 600; i++) {
      parts.push(`employees[${i}][action]=Updated&employees[${i}][id]=${7000 + i}&employees[${i}][timestamp]=2026-12-03T10%3A00%3A00Z&employees[${i}][fields][Status]=${i === 599 ? "Terminated" : "Active"}&employees[${i}][fields][Work%20Email]=p${i}%40example.com&employees[${i}][fields][A]=1&employees[${i}][fields][B]=2&employees[${i}][fields][C]=3&employees[${i}][fields][D]=4`);
    }
    const body = parts.join("&");
    const res = await hrHook(http("POST", "/hooks/bamboohr", body, { ...signBamboo(body), "Content-Type": "application/x-www-form-urlencoded" }), deps(s));
    expect(res.statusCode).toBe(200);
    expect(s.published.map((e) => e.detail.subject.hrId)).toEqual(["7599"]);
  });

  it("a content type that merely mentions the form type is not parsed as a form", async () => {
    const body = "employees[0][id]=1&employees[0][action]=Deleted";
    const res = await hrHook(http("POST", "/hooks/bamboohr", body, { ...signBamboo(body), "Content-Type": "text/plain; x=application/x-www-form-urlencoded" }), deps());
    expect(res.statusCode).toBe(400);
  });

  it("a body over the limit is 413 before any signature work", async () => {
    const big = "x".repeat(300 * 1024);
    expect((await hrHook(http("POST", "/hooks/hr", big, signHr(big)), deps())).statusCode).toBe(413);
  });
});
