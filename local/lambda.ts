import type { Context } from "aws-lambda";
import PQueue from "p-queue";
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
  private readonly slots: PQueue;

  /**
   * At most `maxConcurrent` handlers run at once: the local counterpart of Lambda's concurrency limit.
   * On two cores, a thousand departures arriving together would otherwise run a thousand handlers at
   * once, each slowed by all the others until their own downstream calls time out. Waiting calls are
   * served by priority (see `invoke`), so the oldest offboardings finish first instead of all of them
   * crawling forward together, each holding its state in memory until the very end.
   */
  constructor(maxConcurrent = 128) {
    this.slots = new PQueue({ concurrency: maxConcurrent });
  }

  /**
   * `priority`: higher is served first. Calls from outside a state machine (HTTP, the bus, the
   * scheduler) come first: they are short and feed everything else. A state machine's calls pass their
   * execution's priority, which falls with each execution started (older work first).
   */
  invoke(name: FunctionName, event: unknown, priority = Number.MAX_SAFE_INTEGER, timeoutMs?: number): Promise<unknown> {
    return this.slots.add(() => (timeoutMs === undefined ? this.run(name, event) : withTimeout(this.run(name, event), timeoutMs)), { priority });
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

/**
 * A Task state's TimeoutSeconds, counted from when its handler starts: States.Timeout, as Step Functions
 * names it. The handler cannot be stopped (Lambda would stop it); its slot is given back all the same.
 */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`the task did not finish within ${timeoutMs / 1000} s`), { name: "States.Timeout" })), timeoutMs);
  });
  return Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
}
