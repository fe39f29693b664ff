import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { publish } from "../../../functions/lib/aws";
import { startOffboardExecution } from "../../../functions/start-offboarding/start-offboarding";

const eventBridge = mockClient(EventBridgeClient);
const sfn = mockClient(SFNClient);
beforeAll(() => {
  process.env.EVENT_BUS_NAME = "revoke-bus";
  process.env.STATE_MACHINE_ARN = "arn:aws:states:us-east-1:111122223333:stateMachine:offboard";
  process.env.AWS_REGION = "us-east-1";
});
afterEach(() => {
  eventBridge.reset();
  sfn.reset();
});

const input = { runName: "offboard-x-1", subjectId: "sub-x", dryRun: false, trigger: { source: "hr", sourceEventId: "hr:1", occurredAt: "2026-12-03T00:00:00Z" } };

describe("publish", () => {
  it("puts canonical events on the configured bus, ten per call", async () => {
    eventBridge.on(PutEventsCommand).callsFake((i: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: i.Entries.map((_, n) => ({ EventId: `e${n}` })) }));
    const entries = Array.from({ length: 23 }, (_, i) => ({ detailType: "Identity.Arrived", detail: { n: i } }));
    expect(await publish(entries)).toHaveLength(23);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]!.args[0].input.Entries?.[0]).toEqual({ EventBusName: "revoke-bus", Source: "revoke.pipeline", DetailType: "Identity.Arrived", Detail: '{"n":0}' });
  });

  it("throws when the bus refuses an entry, so the sender retries instead of losing it", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "ThrottlingException" }] });
    await expect(publish([{ detailType: "Identity.Departed", detail: {} }])).rejects.toThrow(/ThrottlingException/);
  });
});

describe("StartExecution", () => {
  it("names the execution after the departure and passes no infrastructure names in the input", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: "arn", startDate: new Date() });
    await startOffboardExecution("offboard-x-1", input);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ stateMachineArn: process.env.STATE_MACHINE_ARN, name: "offboard-x-1" });
    expect(JSON.parse(call.input!)).toEqual(input);
  });

  it("ExecutionAlreadyExists is the idempotency we asked for; other errors propagate", async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(new ExecutionAlreadyExists({ message: "exists", $metadata: {} })).rejectsOnce(new Error("AccessDenied"));
    await expect(startOffboardExecution("offboard-x-1", input)).resolves.toBeUndefined();
    await expect(startOffboardExecution("offboard-x-1", input)).rejects.toThrow("AccessDenied");
  });
});
