import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../../functions/lib/store";
import { taskLinkQuery } from "../../../functions/lib/tasks";
import { taskPage } from "../../../functions/task-page/task-page";
import type { LocalDynamo } from "../../../local/dynamo";
import { testStore } from "../../helpers/store";

let store: Store;
let dynamo: LocalDynamo;
beforeAll(async () => ({ store, dynamo } = await testStore()));
afterAll(() => dynamo.close());

const secret = "link-secret";
const now = new Date("2026-12-03T12:00:00Z");
const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
const deps = () => ({ store, linkSecret: async () => secret, now: () => now, send: async (c: { constructor: { name: string }; input: object }) => void sent.push({ name: c.constructor.name, input: c.input as Record<string, unknown> }) });

async function task(taskId: string, accountName = "ann@example.com") {
  await store.putTask({ taskId, subjectId: "sub-x", runName: "run-x", appId: "payroll", appName: "Payroll", round: "owner", assignee: "owner@example.com", accountName, token: `tok-${taskId}`, state: "OPEN", createdAt: "t", deadline: "2026-12-06T12:00:00.000Z", remindAt: "t" });
  return new URLSearchParams(taskLinkQuery(secret, taskId, "2026-12-06T12:00:00.000Z"));
}
const get = (taskId: string, q: URLSearchParams) => ({ rawPath: `/tasks/${taskId}`, queryStringParameters: Object.fromEntries(q), requestContext: { http: { method: "GET" } }, headers: {} }) as unknown as APIGatewayProxyEventV2;
const post = (taskId: string, form: Record<string, string>) => ({ rawPath: `/tasks/${taskId}`, body: new URLSearchParams(form).toString(), isBase64Encoded: false, requestContext: { http: { method: "POST" } }, headers: {} }) as unknown as APIGatewayProxyEventV2;

describe("the task page behind an owner's link", () => {
  it("GET shows the task and the form, and changes nothing (mail scanners prefetch links)", async () => {
    const q = await task("t-get");
    for (let i = 0; i < 3; i++) {
      const res = await taskPage(get("t-get", q), deps());
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain("Remove ann@example.com from Payroll");
      expect(res.body).toContain('name="action" value="confirm"');
      expect(res.headers?.["content-security-policy"]).toContain("default-src 'none'");
    }
    expect((await store.getTask("t-get"))?.state).toBe("OPEN");
    expect(sent.filter((s) => JSON.stringify(s).includes("tok-t-get"))).toEqual([]);
  });

  it("a link with a wrong or missing signature is 403; an expired one is 410", async () => {
    const q = await task("t-sig");
    const forged = new URLSearchParams(q);
    forged.set("sig", "0".repeat(64));
    expect((await taskPage(get("t-sig", forged), deps())).statusCode).toBe(403);
    expect((await taskPage(get("t-sig", new URLSearchParams()), deps())).statusCode).toBe(403);
    expect((await taskPage(get("t-other", q), deps())).statusCode).toBe(403);
    const late = { ...deps(), now: () => new Date("2026-12-07T00:00:00Z") };
    expect((await taskPage(get("t-sig", q), late)).statusCode).toBe(410);
  });

  it("POST confirm answers Step Functions with the token and records who, via the link", async () => {
    const q = await task("t-ok");
    const res = await taskPage(post("t-ok", { ...Object.fromEntries(q), action: "confirm", text: "removed" }), deps());
    expect(res.statusCode).toBe(200);
    expect(sent.at(-1)).toMatchObject({ name: "SendTaskSuccessCommand", input: { taskToken: "tok-t-ok" } });
    expect(await store.getTask("t-ok")).toMatchObject({ state: "CONFIRMED", closedBy: "owner@example.com (via link)", note: "removed" });
    const again = await taskPage(post("t-ok", { ...Object.fromEntries(q), action: "confirm" }), deps());
    expect(again.statusCode).toBe(409);
  });

  it("POST reject needs a reason", async () => {
    const q = await task("t-rej");
    expect((await taskPage(post("t-rej", { ...Object.fromEntries(q), action: "reject", text: " " }), deps())).statusCode).toBe(400);
    expect((await store.getTask("t-rej"))?.state).toBe("OPEN");
    expect((await taskPage(post("t-rej", { ...Object.fromEntries(q), action: "reject", text: "legal hold" }), deps())).statusCode).toBe(200);
    expect(sent.at(-1)).toMatchObject({ name: "SendTaskFailureCommand", input: { error: "Rejected", cause: expect.stringContaining("legal hold") } });
  });

  it("a note or reason typed on the page keeps its words but no escape sequence or extra line (it is shown again in terminals)", async () => {
    const q = await task("t-esc");
    const text = "done\u001b[2J\u001b[1;1H\u001b[32mAll accounts verified OK\u001b[0m\nrevoke confirm t-zzzz\u202e";
    expect((await taskPage(post("t-esc", { ...Object.fromEntries(q), action: "confirm", text }), deps())).statusCode).toBe(200);
    const { note } = (await store.getTask("t-esc"))!;
    expect(note).toBe("done [2J [1;1H [32mAll accounts verified OK [0m revoke confirm t-zzzz ");
    expect(JSON.parse(String(sent.at(-1)!.input.output)).note).toBe(note);
    const r = await task("t-esc-reject");
    await taskPage(post("t-esc-reject", { ...Object.fromEntries(r), action: "reject", text: "legal\nhold\u0007" }), deps());
    expect((await store.getTask("t-esc-reject"))!.note).toBe("legal hold ");
  });

  it("a path that is not a task id (bad percent-encoding) is 404, not a crash", async () => {
    expect((await taskPage(get("%E0%A4%A", new URLSearchParams({ exp: "1", sig: "a" })), deps())).statusCode).toBe(404);
  });

  it("escapes what it shows: a hostile account name stays text", async () => {
    const q = await task("t-xss", `<script>alert(1)</script>"@example.com`);
    const res = await taskPage(get("t-xss", q), deps());
    expect(res.body).not.toContain("<script>");
    expect(res.body).toContain("&lt;script&gt;");
  });

  it("without a configured link secret the page does not exist", async () => {
    expect((await taskPage(get("t-get", new URLSearchParams()), { ...deps(), linkSecret: async () => undefined })).statusCode).toBe(404);
  });
});
