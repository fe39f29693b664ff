import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { SFNClient } from "@aws-sdk/client-sfn";
import { requiredEnv } from "./config";
import { BUS_SOURCE, type CanonicalEvent } from "./events";

/**
 * SDK clients, created once per container. EVENTBRIDGE_ENDPOINT / SFN_ENDPOINT point them at the local
 * runtime, which speaks the same wire protocol, so the handlers run unchanged on both.
 */
let eventBridge: EventBridgeClient | undefined;
let sfn: SFNClient | undefined;

export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= new EventBridgeClient(process.env.EVENTBRIDGE_ENDPOINT ? { endpoint: process.env.EVENTBRIDGE_ENDPOINT } : {});
  return eventBridge;
}

export function sfnClient(): SFNClient {
  sfn ??= new SFNClient(process.env.SFN_ENDPOINT ? { endpoint: process.env.SFN_ENDPOINT } : {});
  return sfn;
}

const PUT_EVENTS_MAX = 10;

/** Puts detail events on the pipeline's bus; throws if any entry was refused, so nothing is silently lost. */
export async function publish(entries: Array<{ detailType: string; detail: unknown }>): Promise<string[]> {
  const bus = requiredEnv("EVENT_BUS_NAME");
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i += PUT_EVENTS_MAX) {
    const chunk = entries.slice(i, i + PUT_EVENTS_MAX);
    const out = await eventBridgeClient().send(
      new PutEventsCommand({
        Entries: chunk.map((e) => ({ EventBusName: bus, Source: BUS_SOURCE, DetailType: e.detailType, Detail: JSON.stringify(e.detail) })),
      }),
    );
    if (out.FailedEntryCount) {
      const failed = out.Entries?.find((e) => e.ErrorCode);
      throw new Error(`PutEvents refused ${out.FailedEntryCount} of ${chunk.length} entries: ${failed?.ErrorCode ?? "unknown"}`);
    }
    ids.push(...(out.Entries ?? []).map((e) => e.EventId ?? ""));
  }
  return ids;
}

export const publishCanonical = (events: CanonicalEvent[]) => publish(events);
