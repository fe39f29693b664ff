import { appendFileSync } from "node:fs";
import type { Catalog } from "./catalog";
import { Transient } from "./errors";
import { logger } from "./observability";
import { resolveSecret } from "./secrets";

export interface Notification {
  to: string;
  subject: string;
  text: string;
}

export type Notifier = (n: Notification) => Promise<void>;

/**
 * Tells a person about a task: a Slack-compatible incoming webhook when configured, and in the local
 * runtime a line in a notifications file (NOTIFY_FILE). The log gets the task, never the message (it
 * names the person leaving).
 */
export function notifierFor(catalog: Catalog, fetchImpl: typeof fetch = fetch): Notifier {
  return async (n) => {
    const file = process.env.NOTIFY_FILE;
    if (file) appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...n })}\n`);
    const ref = catalog.notify.slackWebhookRef;
    if (ref) {
      const res = await fetchImpl(await resolveSecret(ref), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `*${n.subject}*\n${n.text}` }) });
      if (!res.ok) throw new Transient(`notification webhook answered ${res.status}`);
    }
    if (!file && !ref) logger.warn("no notifier configured: the task is only in `revoke tasks`");
  };
}
