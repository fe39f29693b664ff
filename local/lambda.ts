import type { Context } from "aws-lambda";
import { FUNCTION_ENTRIES, type FunctionName } from "../functions/lib/rules";

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** A Lambda context good enough for middy and Powertools; the local runtime has no real one. */
export function fakeContext(functionName: string): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The deployed handlers, loaded in-process from the same entry files CDK bundles. Loaded lazily,
 * after the runtime has set the environment they read.
 */
export class LocalLambdas {
  private readonly loaded = new Map<string, Handler>();
  invocations = 0;
  private active = 0;
  private readonly queue: Array<() => void> = [];

  /**
   * At most `maxConcurrent` handlers run at once, the rest wait their turn in order: the local
   * counterpart of Lambda's concurrency limit. On two cores, a thousand departures arriving together
   * would otherwise run a thousand handlers at once, each slowed by all the others until their own
   * downstream calls time out; in order, the first departures finish first and the engine keeps pace.
   */
  constructor(private readonly maxConcurrent = 128) {}

  async invoke(name: FunctionName, event: unknown): Promise<unknown> {
    if (this.active >= this.maxConcurrent) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await this.run(name, event);
    } finally {
      // The slot passes straight to the next in line, or is freed.
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }

  private async run(name: FunctionName, event: unknown): Promise<unknown> {
    let handler = this.loaded.get(name);
    if (!handler) {
      const entry = FUNCTION_ENTRIES[name];
      if (!entry) throw new Error(`no local function ${name}`);
      const mod = (await import(/* @vite-ignore */ `../${entry}`)) as { handler: Handler };
      handler = mod.handler;
      this.loaded.set(name, handler);
    }
    this.invocations++;
    return handler(event, fakeContext(name));
  }
}
