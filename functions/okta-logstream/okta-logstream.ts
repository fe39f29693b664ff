import type { Catalog } from "../lib/catalog";
import type { CanonicalEvent } from "../lib/events";
import { logger } from "../lib/observability";
import { normalizePayload } from "../normalize";

export interface LogStreamDeps {
  catalog: Catalog;
  publish: (events: CanonicalEvent[]) => Promise<string[]>;
}

/**
 * Okta Log Streaming: the partner event bus delivers one System Log event per EventBridge event. It is
 * normalized like any other Okta event and put on the pipeline's bus. A payload that does not
 * normalize throws: after Lambda's retries it lands in the on-failure queue with the reason.
 */
export async function acceptLogStream(envelope: unknown, deps: LogStreamDeps): Promise<{ accepted: number; ignored: number }> {
  const normalized = normalizePayload(envelope, { catalog: deps.catalog }, "okta-logstream");
  if (normalized.events.length) await deps.publish(normalized.events);
  logger.info("okta log stream event", { accepted: normalized.events.length, ignored: normalized.ignored.length });
  return { accepted: normalized.events.length, ignored: normalized.ignored.length };
}
