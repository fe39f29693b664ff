import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import qs from "qs";
import type { HumanTask, Store } from "../lib/store";
import { type AnswerOutcome, answerTask, taskLinkProblem } from "../lib/tasks";

export interface TaskPageDeps {
  store: Store;
  send: Parameters<typeof answerTask>[0]["send"];
  /** The link-signing secret, or undefined when links are not configured (the page is then 404). */
  linkSecret: () => Promise<string | undefined>;
  now: () => Date;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(status: number, title: string, body: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      // The page is self-contained: no scripts, no framing, nothing cached, no referrer leaking the link.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
    },
    body: `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}dt{font-weight:600}textarea{width:100%}button{margin:.5rem .5rem 0 0;padding:.5rem 1rem}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`,
  };
}

function describe(task: HumanTask): string {
  return `<dl><dt>Person</dt><dd>${escape(task.accountName ?? task.subjectId)}</dd><dt>App</dt><dd>${escape(task.appName)}</dd>
<dt>Asked of</dt><dd>${escape(task.assignee)}${task.round === "backup" ? " (escalated)" : ""}</dd><dt>Due</dt><dd>${escape(task.deadline)}</dd>
<dt>State</dt><dd>${escape(task.state)}${task.closedBy ? ` by ${escape(task.closedBy)}` : ""}${task.note ? `: ${escape(task.note)}` : ""}</dd></dl>`;
}

/**
 * GET /tasks/{taskId}: the task and a form; it never changes anything (mail scanners prefetch links).
 * POST /tasks/{taskId}: the form's answer, confirm (with a note) or reject (with a required reason).
 * Both need the link's signature, which expires with the task.
 */
export async function taskPage(event: APIGatewayProxyEventV2, deps: TaskPageDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const secret = await deps.linkSecret();
  if (!secret) return page(404, "Not found", "<p>Task links are not configured.</p>");
  let taskId: string;
  try {
    taskId = decodeURIComponent(event.rawPath.split("/").pop() ?? "");
  } catch {
    return page(404, "Not found", "<p>This is not a task link.</p>");
  }
  const method = event.requestContext?.http?.method ?? "GET";
  const form = method === "POST" ? (qs.parse(event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? ""), { depth: 0, parameterLimit: 20 }) as Record<string, unknown>) : {};
  const exp = String(form.exp ?? event.queryStringParameters?.exp ?? "");
  const sig = String(form.sig ?? event.queryStringParameters?.sig ?? "");
  const problem = taskLinkProblem(secret, taskId, exp, sig, deps.now().getTime());
  if (problem) return page(problem.includes("expired") ? 410 : 403, "This link cannot be used", `<p>${escape(problem)}. Ask for the task with <code>revoke tasks</code>.</p>`);

  if (method === "GET") {
    const task = await deps.store.getTask(taskId);
    if (!task) return page(404, "No such task", "<p>This task does not exist.</p>");
    const form = task.state === "OPEN"
      ? `<form method="post"><input type="hidden" name="exp" value="${escape(exp)}"><input type="hidden" name="sig" value="${escape(sig)}">
<p><label>What you did, or why the account stays<br><textarea name="text" rows="3" maxlength="1000"></textarea></label></p>
<button name="action" value="confirm">I removed the account</button><button name="action" value="reject">Keep it (reason required)</button></form>`
      : "<p>This task is closed; nothing more is needed.</p>";
    return page(200, `Remove ${task.accountName ?? task.subjectId} from ${task.appName}`, describe(task) + form);
  }
  if (method !== "POST") return page(405, "Not allowed", "<p>Use the form.</p>");

  const text = typeof form.text === "string" ? form.text.trim().slice(0, 1000) : "";
  const action = form.action;
  if (action !== "confirm" && action !== "reject") return page(400, "Choose an answer", "<p>Confirm or keep.</p>");
  if (action === "reject" && !text) return page(400, "A reason is required", "<p>Keeping an account of someone who left needs a reason (for example a legal hold). Go back and give one.</p>");
  const task = await deps.store.getTask(taskId);
  const actor = `${task?.assignee ?? "unknown"} (via link)`;
  const outcome: AnswerOutcome = await answerTask({ store: deps.store, send: deps.send, now: deps.now }, taskId, action === "confirm" ? { confirm: true, note: text || undefined } : { confirm: false, reason: text }, actor);
  switch (outcome.kind) {
    case "not-found":
      return page(404, "No such task", "<p>This task does not exist.</p>");
    case "already-closed":
      return page(409, "Already answered", describe(outcome.task));
    case "no-longer-waiting":
      return page(410, "No longer waiting", "<p>The offboarding no longer waits for this task (it timed out or was escalated).</p>");
    case "answered":
      return page(200, action === "confirm" ? "Thank you: removal confirmed" : "Recorded: the account stays", describe((await deps.store.getTask(taskId)) ?? outcome.task));
  }
}
