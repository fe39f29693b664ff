import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FunctionName } from "../../functions/lib/rules";
import { withTimeout } from "../../local/lambda";
import { LocalStepFunctions, localStateMachineArn } from "../../local/stepfunctions";
import { memoryRegistry } from "../helpers/store";


describe("the local engine's Task timeouts", () => {
  const dir = mkdtempSync(join(tmpdir(), "asl-"));
  const file = join(dir, "one-task.asl.json");
  writeFileSync(
    file,
    JSON.stringify({
      StartAt: "Work",
      States: { Work: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: "${WorkFunctionArn}", "Payload.$": "$" }, TimeoutSeconds: 1, OutputPath: "$.Payload", End: true } },
    }),
  );

  it("time spent waiting for a free handler is not the task's: the engine hands TimeoutSeconds to the handler runner instead of counting it itself", async () => {
    const seen: Array<number | undefined> = [];
    const invoker = {
      invoke: async (_fn: FunctionName, payload: unknown, _priority?: number, timeoutMs?: number) => {
        seen.push(timeoutMs);
        await new Promise((r) => setTimeout(r, 1500)); // queued behind other work for longer than TimeoutSeconds
        return { done: payload };
      },
    };
    const sfn = new LocalStepFunctions(memoryRegistry(), invoker);
    sfn.register("one", file, { WorkFunctionArn: "work" as FunctionName });
    await sfn.startExecution(localStateMachineArn("one"), "run-1", JSON.stringify({ n: 1 }));
    const record = await sfn.waitFor("run-1");
    expect(record).toMatchObject({ status: "SUCCEEDED", output: JSON.stringify({ done: { n: 1 } }) });
    expect(seen).toEqual([1000]);
  });

  it("a handler that runs past its TimeoutSeconds fails with States.Timeout, as on AWS", async () => {
    const slow = new Promise((r) => setTimeout(r, 300));
    await expect(withTimeout(slow, 50)).rejects.toMatchObject({ name: "States.Timeout" });
    await expect(withTimeout(Promise.resolve("ok"), 50)).resolves.toBe("ok");
  });
});
