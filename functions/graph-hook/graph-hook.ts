import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { json, parseJson, rawBody } from "../ingest/ingest";
import { InternalDetailType } from "../lib/events";
import { logger } from "../lib/observability";
import { isRecord } from "../normalize/types";
import { constantTimeEqual } from "../lib/webhook-auth";

export interface GraphHookDeps {
  /** The clientState given when subscribing, or undefined when Graph ingress is not configured. */
  clientState: () => Promise<string | undefined>;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now?: () => Date;
}

/** Notifications name the user as `Users/<id>` (or `resourceData.id`); nothing else is trusted. */
function userIdOf(n: Record<string, unknown>): string | undefined {
  const data = isRecord(n.resourceData) ? n.resourceData : {};
  if (typeof data.id === "string" && data.id) return data.id;
  const match = typeof n.resource === "string" ? n.resource.match(/^users\/([^/?]+)$/i) : null;
  return match?.[1];
}

/**
 * Microsoft Graph change notifications on /users, and lifecycle notifications. A validation request
 * (`validationToken`) is echoed as text/plain. Each notification must carry our clientState, compared
 * in constant time; those that do not are dropped, and a delivery with none valid is 401. The valid
 * ones are put on the bus at once (Graph wants an answer within seconds); the user is looked up after.
 */
export async function graphHook(event: APIGatewayProxyEventV2, deps: GraphHookDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const token = event.queryStringParameters?.validationToken;
  if (token !== undefined) {
    // API Gateway hands over the query string decoded; Graph wants the token back as it was, in plain text.
    return { statusCode: 200, headers: { "content-type": "text/plain" }, body: token };
  }
  const expected = await deps.clientState();
  if (!expected) return json(404, { error: "Microsoft Graph notifications are not configured" });
  if ((event.requestContext?.http?.method ?? "POST") !== "POST") return json(405, { error: "use POST" });
  const raw = rawBody(event);
  if ("response" in raw) return raw.response;
  const parsed = parseJson(raw.bytes);
  if ("response" in parsed) return parsed.response;
  const items = isRecord(parsed.body) && Array.isArray(parsed.body.value) ? parsed.body.value : undefined;
  if (!items) return json(400, { error: "a Graph notification body has a value array" });

  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const entries: Array<{ detailType: string; detail: unknown }> = [];
  let rejected = 0;
  for (const item of items) {
    if (!isRecord(item) || typeof item.clientState !== "string" || !constantTimeEqual(item.clientState, expected)) {
      rejected++;
      continue;
    }
    const subscriptionId = typeof item.subscriptionId === "string" ? item.subscriptionId.slice(0, 256) : undefined;
    if (typeof item.lifecycleEvent === "string") {
      entries.push({ detailType: InternalDetailType.GraphSubscriptionLifecycle, detail: { lifecycleEvent: item.lifecycleEvent.slice(0, 64), subscriptionId, receivedAt } });
      continue;
    }
    const entraId = userIdOf(item);
    if (!entraId || entraId.length > 256) {
      rejected++;
      continue;
    }
    entries.push({ detailType: InternalDetailType.EntraUserChanged, detail: { entraId, changeType: String(item.changeType ?? "updated").slice(0, 64), subscriptionId, receivedAt } });
  }
  if (entries.length === 0 && rejected > 0) {
    logger.warn("graph hook: no notification carried the clientState", { rejected });
    return json(401, { error: "clientState does not match" });
  }
  if (entries.length) await deps.publish(entries);
  logger.info("graph notifications accepted", { accepted: entries.length, rejected });
  return json(202, { accepted: entries.length, rejected });
}
