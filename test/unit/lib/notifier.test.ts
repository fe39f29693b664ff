import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { parseCatalog } from "../../../functions/lib/catalog";
import { notifierFor } from "../../../functions/lib/notifier";

const sns = mockClient(SNSClient);
afterEach(() => {
  sns.reset();
  delete process.env.TASK_TOPIC_ARN;
});

describe("owner notifications", () => {
  it("on AWS, an email through SNS addressed by the `to` attribute the owner's subscription filters on", async () => {
    process.env.TASK_TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:TaskNotifications";
    sns.on(PublishCommand).resolves({ MessageId: "m1" });
    await notifierFor(parseCatalog({ apps: [] }))({ to: "Payroll-Admin@example.com", subject: "Remove ann@example.com from Payroll", text: "…" });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toMatchObject({
      TopicArn: process.env.TASK_TOPIC_ARN,
      Subject: "Remove ann@example.com from Payroll",
      MessageAttributes: { to: { DataType: "String", StringValue: "payroll-admin@example.com" } },
    });
  });

  it("a Slack-compatible webhook gets the subject and text; a failing webhook is a Transient error (retried)", async () => {
    process.env.T_SLACK = "https://hooks.example.com/services/T/B/X";
    const posted: unknown[] = [];
    const ok = (async (_url: string, init?: RequestInit) => (posted.push(JSON.parse(String(init?.body))), new Response("ok"))) as typeof fetch;
    const catalog = parseCatalog({ apps: [], notify: { slackWebhookRef: "T_SLACK" } });
    await notifierFor(catalog, ok)({ to: "a@example.com", subject: "S", text: "T" });
    expect(posted).toEqual([{ text: "*S*\nT" }]);
    const failing = (async () => new Response("no", { status: 500 })) as typeof fetch;
    await expect(notifierFor(catalog, failing)({ to: "a@example.com", subject: "S", text: "T" })).rejects.toMatchObject({ name: "Transient" });
  });
});
