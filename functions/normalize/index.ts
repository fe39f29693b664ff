import { ValidationError } from "../lib/errors";
import { describeIssue } from "../lib/issues";
import { CanonicalEvent } from "../lib/events";
import { isBambooEventWebhook, isBambooFieldWebhook, isHrTermination, normalizeBamboo, normalizeHrTermination } from "./hr";
import {
  isOktaHookDelivery,
  isOktaLogStreamEnvelope,
  isOktaSystemLogEvent,
  normalizeOktaEvent,
  normalizeOktaHookDelivery,
  normalizeOktaLogStream,
} from "./okta";
import { isRecord, type Normalized, type NormalizeContext } from "./types";

export type { Normalized, NormalizeContext } from "./types";

/** The payload kinds an operator can name with `revoke normalize --source`. */
export const SOURCES = ["okta", "okta-hook", "okta-logstream", "bamboohr", "hr", "canonical"] as const;
export type PayloadSource = (typeof SOURCES)[number];

/** A canonical event posted as `{"detail-type": …, "detail": …}` (PutEvents style) or `{detailType, detail}`. */
function isCanonical(body: unknown): boolean {
  return isRecord(body) && ("detail-type" in body || "detailType" in body) && "detail" in body && !isOktaLogStreamEnvelope(body);
}

function normalizeCanonical(body: unknown): Normalized {
  const b = body as Record<string, unknown>;
  const parsed = CanonicalEvent.safeParse({ detailType: b["detail-type"] ?? b.detailType, detail: b.detail });
  // Named as the sender spelled it: detail-type in the PutEvents shape.
  if (!parsed.success) throw new ValidationError(describeIssue(parsed.error, "canonical event").replace(/\bdetailType\b/, "detail-type" in b ? "detail-type" : "detailType"));
  return { events: [parsed.data], ignored: [] };
}

/** Tells the payload kind from its shape; undefined when it is none we accept. */
export function detectSource(body: unknown): PayloadSource | undefined {
  if (isOktaHookDelivery(body)) return "okta-hook";
  if (isOktaLogStreamEnvelope(body)) return "okta-logstream";
  if (isHrTermination(body)) return "hr";
  if (isBambooFieldWebhook(body) || isBambooEventWebhook(body)) return "bamboohr";
  if (isCanonical(body)) return "canonical";
  if (isOktaSystemLogEvent(body)) return "okta";
  return undefined;
}

/**
 * One vendor payload to canonical events. Pure: no I/O, no clock. Throws only ValidationError, whose
 * message is one line that is safe to return to the sender (it names fields, never values).
 */
export function normalizePayload(body: unknown, ctx: NormalizeContext, source?: PayloadSource): Normalized {
  const kind = source ?? detectSource(body);
  try {
    switch (kind) {
      case "okta":
        return normalizeOktaEvent(body, ctx);
      case "okta-hook":
        return normalizeOktaHookDelivery(body, ctx);
      case "okta-logstream":
        return normalizeOktaLogStream(body, ctx);
      case "hr":
        return normalizeHrTermination(body);
      case "bamboohr":
        return normalizeBamboo(body);
      case "canonical":
        return normalizeCanonical(body);
      default:
        throw new ValidationError(
          "unrecognized payload: expected an Okta System Log event, event hook delivery or log streaming event, a BambooHR webhook, a revoke.hr.termination event, or a canonical event",
        );
    }
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    // Anything else is a shape we did not foresee; the sender still gets a typed, one-line reason.
    throw new ValidationError(`malformed ${kind ?? "payload"}: ${(e as Error).message.split("\n")[0]}`);
  }
}
