import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { json, parseJson, rawBody } from "../ingest/ingest";
import { InternalDetailType } from "../lib/events";
import { logger } from "../lib/observability";
import { hasControlChars } from "../lib/text";
import { isRecord } from "../normalize/types";
import { constantTimeEqual } from "../lib/webhook-auth";

export interface GraphHookDeps {
  /** The clientState given when subscribing, or undefined when Graph ingress is not configured. */
  clientState: () => Promise<string | undefined>;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now?: () => Date;
}

/**
 * The user a notification is about, or undefined when it is not about a user. Only a resource that is
 * exactly `Users/<id>` (any casing) and resource data typed as a user count: a notification about a
 * user's messages also carries a `resourceData.id`, and that id is a message's, never a person's.
 */
function userIdOf(n: Record<string, unknown>): string | undefined {
  const data = isRecord(n.resourceData) ? n.resourceData : {};
  const type = data["@odata.type"];
  if (typeof type === "string" && !/^#?microsoft\.graph\.user$/i.test(type)) return undefined;
  const resource = typeof n.resource === "string" ? n.resource.match(/^users\/([^/?@]+)$/i) : null;
  if (typeof n.resource === "string" && !resource) return undefined;
  const id = typeof data.id === "string" && data.id ? data.id : resource?.[1];
  if (resource && id !== resource[1]) return undefined;
  return id;
}

/** Graph delivers `{value: [...]}` to a webhook; through Event Grid each notification is a CloudEvent's `data`. */
export function notificationItems(body: unknown): unknown[] | undefined {
  const unwrap = (e: unknown) => (isRecord(e) && "specversion" in e && "data" in e ? e.data : e);
  if (Array.isArray(body)) return body.map(unwrap);
  if (isRecord(body) && Array.isArray(body.value)) return body.value;
  if (isRecord(body) && "specversion" in body && "data" in body) return [body.data];
  return undefined;
}

/**
 * The events a Graph notification delivery yields: a user change per valid notification, a lifecycle
 * event per lifecycle notification. With `expectedClientState` undefined nothing is checked (used by
 * `revoke normalize` to show what a payload would yield).
 */
export function readGraphNotifications(items: unknown[], expectedClientState: string | undefined, receivedAt: string) {
  const entries: Array<{ detailType: string; detail: Record<string, unknown> }> = [];
  let rejected = 0;
  let notAboutUsers = 0;
  for (const item of items) {
    const authentic = isRecord(item) && (expectedClientState === undefined || (typeof item.clientState === "string" && constantTimeEqual(item.clientState, expectedClientState)));
    if (!authentic) {
      rejected++;
      continue;
    }
    const subscriptionId = typeof item.subscriptionId === "string" ? item.subscriptionId.slice(0, 256) : undefined;
    if (typeof item.lifecycleEvent === "string") {
      entries.push({ detailType: InternalDetailType.GraphSubscriptionLifecycle, detail: { lifecycleEvent: item.lifecycleEvent.slice(0, 64), subscriptionId, receivedAt } });
      continue;
    }
    const entraId = userIdOf(item);
    // Graph's ids are GUIDs: a newline or an escape in one is not a user id, and is not passed on.
    if (!entraId || entraId.length > 256 || hasControlChars(entraId)) {
      notAboutUsers++;
      continue;
    }
    entries.push({ detailType: InternalDetailType.EntraUserChanged, detail: { entraId, changeType: String(item.changeType ?? "updated").slice(0, 64), subscriptionId, receivedAt } });
  }
  return { entries, rejected, notAboutUsers };
}

/**
 * Microsoft Graph change notifications on /users, and lifecycle notifications. A validation request
 * (`validationToken`) is echoed as text/plain. Each notification must carry our clientState, compared
 * in constant time; those that do not are dropped, and a delivery with none valid is 401. The valid
 * ones are put on the bus at once (Graph wants an answer within seconds); the user is looked up after.
 */
export async function graphHook(event: APIGatewayProxyEventV2, deps: GraphHookDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const expected = await deps.clientState();
  if (!expected) return json(404, { error: "Microsoft Graph notifications are not configured" });
  const token = event.queryStringParameters?.validationToken;
  if (token !== undefined) {
    // Graph's tokens are short printable text; anything else is not Graph and is not reflected.
    if (token.length > 1024 || /[\u0000-\u001f\u007f<>]/.test(token)) return json(400, { error: "validationToken is not a Graph validation token" });
    // API Gateway hands over the query string decoded; Graph wants the token back as it was, in plain text.
    return { statusCode: 200, headers: { "content-type": "text/plain", "x-content-type-options": "nosniff" }, body: token };
  }
  if ((event.requestContext?.http?.method ?? "POST") !== "POST") return json(405, { error: "use POST" });
  const raw = rawBody(event);
  if ("response" in raw) return raw.response;
  const parsed = parseJson(raw.bytes);
  if ("response" in parsed) return parsed.response;
  const items = notificationItems(parsed.body);
  if (!items) return json(400, { error: "a Graph notification body has a value array (or is Event Grid CloudEvents)" });

  const { entries, rejected, notAboutUsers } = readGraphNotifications(items, expected, (deps.now?.() ?? new Date()).toISOString());
  // Nothing authenticated (every item without our clientState, or no item at all): nothing is accepted.
  if (entries.length === 0 && notAboutUsers === 0) {
    logger.warn("graph hook: no notification carried the clientState", { rejected });
    return json(401, { error: "clientState does not match" });
  }
  if (entries.length) await deps.publish(entries);
  logger.info("graph notifications accepted", { accepted: entries.length, rejected, notAboutUsers });
  return json(202, { accepted: entries.length, rejected, ignored: notAboutUsers });
}
