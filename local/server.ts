import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { MAX_BODY_BYTES } from "../functions/ingest/ingest";
import { HTTP_ROUTES, routeMatches } from "../functions/lib/rules";
import { browserRefusal } from "./browser-guard.mjs";
import type { LocalBus, PutEntry } from "./bus";
import type { LocalLambdas } from "./lambda";
import { type LocalStepFunctions, localExecutionArn, localStateMachineArn } from "./stepfunctions";

/** Bodies are read up to this many bytes; past it the request is refused before buffering more. */
const READ_LIMIT = MAX_BODY_BYTES + 1;

interface Routes {
  lambdas: LocalLambdas;
  bus: LocalBus;
  sfn: LocalStepFunctions;
  /** The address the server listens on, when it is not a loopback one: operators may address it by that too. */
  host?: string;
}

class TooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > READ_LIMIT) {
        reject(new TooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

/** The HTTP API event API Gateway v2 hands a Lambda, built from a local request. */
export function apiGatewayEvent(req: IncomingMessage, body: Buffer, routeKey: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
  const now = Date.now();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: req.headers.host ?? "localhost",
      domainPrefix: "local",
      http: { method: req.method ?? "GET", path: url.pathname, protocol: "HTTP/1.1", sourceIp: req.socket.remoteAddress ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    // As API Gateway does: text as text, anything that is not valid UTF-8 base64-encoded, so the
    // handlers verify signatures over the bytes that were sent.
    ...(Buffer.from(body.toString("utf8"), "utf8").equals(body) ? { body: body.toString("utf8"), isBase64Encoded: false } : { body: body.toString("base64"), isBase64Encoded: true }),
  };
}

/**
 * The subset of the EventBridge and Step Functions JSON APIs the handlers and the CLI call, so they
 * use the real AWS SDK clients against the local runtime (errors carry `__type` as AWS's do).
 */
async function awsApi(target: string, body: Record<string, unknown>, routes: Routes): Promise<{ status: number; body: unknown }> {
  const error = (type: string, message: string, status = 400) => ({ status, body: { __type: type, message } });
  try {
    switch (target) {
      case "AWSEvents.PutEvents": {
        if (!Array.isArray(body.Entries) || body.Entries.length === 0 || body.Entries.length > 10) return error("ValidationException", "Entries must be a list of 1 to 10 entries");
        if (!body.Entries.every((e) => e && typeof e === "object")) return error("ValidationException", "each entry must be an object");
        const entries = routes.bus.putEvents(body.Entries as PutEntry[]);
        return { status: 200, body: { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries } };
      }
      case "AWSStepFunctions.StartExecution": {
        const name = typeof body.name === "string" ? body.name : randomUUID();
        const out = await routes.sfn.startExecution(String(body.stateMachineArn), name, typeof body.input === "string" ? body.input : "{}");
        return { status: 200, body: { executionArn: out.executionArn, startDate: Date.parse(out.startDate) / 1000 } };
      }
      case "AWSStepFunctions.DescribeExecution": {
        const arn = String(body.executionArn ?? "");
        const name = arn.split(":").pop() ?? "";
        if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) return error("InvalidArn", `Invalid Arn: '${arn.slice(0, 200)}'`);
        const record = await routes.sfn.describe(name);
        if (!record) return error("ExecutionDoesNotExist", `Execution does not exist: '${arn}'`);
        return {
          status: 200,
          body: {
            executionArn: localExecutionArn(record.stateMachine, record.name),
            stateMachineArn: localStateMachineArn(record.stateMachine),
            name: record.name,
            status: record.status,
            startDate: Date.parse(record.startDate) / 1000,
            ...(record.stopDate ? { stopDate: Date.parse(record.stopDate) / 1000 } : {}),
            input: record.input,
            ...(record.output !== undefined ? { output: record.output } : {}),
            ...(record.error ? { error: record.error, cause: record.cause } : {}),
          },
        };
      }
      case "AWSStepFunctions.SendTaskSuccess":
        routes.sfn.tokens.success(String(body.taskToken ?? ""), typeof body.output === "string" ? body.output : "{}");
        return { status: 200, body: {} };
      case "AWSStepFunctions.SendTaskFailure":
        routes.sfn.tokens.failure(String(body.taskToken ?? ""), typeof body.error === "string" ? body.error : undefined, typeof body.cause === "string" ? body.cause : undefined);
        return { status: 200, body: {} };
      case "AWSStepFunctions.SendTaskHeartbeat":
        routes.sfn.tokens.heartbeat(String(body.taskToken ?? ""));
        return { status: 200, body: {} };
      default:
        return error("UnknownOperationException", `${target} is not served by the local runtime`);
    }
  } catch (e) {
    const err = e as Error;
    const known = ["ExecutionAlreadyExists", "StateMachineDoesNotExist", "InvalidName", "InvalidExecutionInput", "TaskDoesNotExist", "TaskTimedOut", "InvalidOutput"];
    // Internal failures are not described to the caller.
    return known.includes(err.name) ? error(err.name, err.message) : error("InternalFailure", "internal error", 500);
  }
}

export function createLocalServer(routes: Routes): Server {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://local");
      const target = req.headers["x-amz-target"];
      if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { ok: true });
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (e) {
        if (e instanceof TooLarge) {
          send(res, 413, { error: `body is larger than ${MAX_BODY_BYTES} bytes` }, { connection: "close" });
          req.destroy();
          return;
        }
        throw e;
      }
      if (typeof target === "string" && url.pathname === "/") {
        const refusal = browserRefusal(req.headers, routes.host);
        if (refusal) return send(res, 403, { __type: "AccessDeniedException", message: refusal });
        let parsed: Record<string, unknown> = {};
        try {
          parsed = body.length ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
        } catch {
          return send(res, 400, { __type: "SerializationException", message: "body is not JSON" });
        }
        const out = await awsApi(target, parsed, routes);
        return send(res, out.status, out.body, { "content-type": "application/x-amz-json-1.1" });
      }
      const onPath = HTTP_ROUTES.filter((r) => routeMatches(r.path, url.pathname));
      const route = onPath.find((r) => r.method === req.method);
      if (!route) return send(res, onPath.length ? 405 : 404, { error: onPath.length ? `use ${onPath.map((r) => r.method).join(" or ")}` : `no route for ${req.method} ${url.pathname}` });
      if (route.auth === "iam") {
        const refusal = browserRefusal(req.headers, routes.host);
        if (refusal) return send(res, 403, { error: refusal });
      }
      const result = (await routes.lambdas.invoke(route.target, apiGatewayEvent(req, body, `${route.method} ${route.path}`))) as APIGatewayProxyStructuredResultV2;
      res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
      return res.end(result.body ?? "");
    } catch {
      // Never echo internals (or payloads) to the caller; the runtime's own log has the run ids.
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.end();
    }
  });
}
