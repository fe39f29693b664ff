import { appendFileSync } from "node:fs";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Catalog } from "./catalog";
import { Transient } from "./errors";
import { logger } from "./observability";
import { resolveSecret } from "./secrets";
import { oneLine, withLineBreaksOnly } from "./text";

export interface Notification {
  to: string;
  subject: string;
  text: string;
}

export type Notifier = (n: Notification) => Promise<void>;

let sns: SNSClient | undefined;

/**
 * Tells a person about a task: by email through SNS on AWS (TASK_TOPIC_ARN; each owner's email
 * subscription filters on the `to` attribute, so only they get it), through a Slack-compatible
 * incoming webhook when configured, and in the local runtime as a line in a notifications file
 * (NOTIFY_FILE). The log gets the task, never the message (it names the person leaving).
 */
export function notifierFor(catalog: Catalog, fetchImpl: typeof fetch = fetch): Notifier {
  return async (raw) => {
    // Names in a message come from payloads: no line of the message may be forged by one (defence in
    // depth; the event schemas already refuse control characters in ids and names).
    const n = { ...raw, subject: oneLine(raw.subject), text: withLineBreaksOnly(raw.text) };
    const file = process.env.NOTIFY_FILE;
    // The file holds signed task links, which answer tasks: readable by this user only.
    if (file) appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...n })}\n`, { mode: 0o600 });
    const topic = process.env.TASK_TOPIC_ARN;
    if (topic) {
      sns ??= new SNSClient({});
      await sns.send(
        new PublishCommand({
          TopicArn: topic,
          Subject: n.subject.replace(/[^\x20-\x7e]/g, "?").slice(0, 100),
          Message: n.text,
          MessageAttributes: { to: { DataType: "String", StringValue: n.to.toLowerCase() } },
        }),
      );
    }
    const ref = catalog.notify.slackWebhookRef;
    if (ref) {
      const res = await fetchImpl(await resolveSecret(ref), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `*${n.subject}*\n${n.text}` }) });
      if (!res.ok) throw new Transient(`notification webhook answered ${res.status}`);
    }
    if (!file && !ref && !topic) logger.warn("no notifier configured: the task is only in `revoke tasks`");
  };
}
