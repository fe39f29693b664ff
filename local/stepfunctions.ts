import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { StateMachine } from "aws-local-stepfunctions";

// The package does not export its JSON type; this is the same shape.
type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };
import type { FunctionName } from "../functions/lib/rules";
import type { Store } from "../functions/lib/store";

/** What the engine needs of the store and of the functions: the real ones, or stubs in ASL tests. */
export type ExecutionRegistry = Pick<Store, "putIfAbsent" | "getItem" | "putItem" | "queryPrefix">;
export interface FunctionInvoker {
  /**
   * `priority`: higher is served first when handlers are all busy. `timeoutMs`: how long the handler
   * may run once it has a slot (the time it waited for one is not its own).
   */
  invoke(name: FunctionName, event: unknown, priority?: number, timeoutMs?: number): Promise<unknown>;
}

const REGION = "us-east-1";
const ACCOUNT = "000000000000";
export const localFunctionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const localStateMachineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
export const localExecutionArn = (machine: string, name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`;

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED";

export interface ExecutionRecord {
  name: string;
  stateMachine: string;
  input: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate?: string;
  output?: string;
  error?: string;
  cause?: string;
  transitions?: number;
}

export class ExecutionAlreadyExists extends Error {
  override name = "ExecutionAlreadyExists";
}
export class ExecutionDoesNotExist extends Error {
  override name = "ExecutionDoesNotExist";
}
export class StateMachineDoesNotExist extends Error {
  override name = "StateMachineDoesNotExist";
}
export class TaskDoesNotExist extends Error {
  override name = "TaskDoesNotExist";
}
export class TaskTimedOut extends Error {
  override name = "TaskTimedOut";
}

/** What `$$.Task.Token` reads as in the local engine; each waiting task replaces it with a real token. */
const TOKEN_PLACEHOLDER = "local-task-token-placeholder";

function replaceDeep(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}

interface WaitingTask {
  resolve: (output: JSONValue) => void;
  reject: (error: Error) => void;
  heartbeat?: NodeJS.Timeout;
  heartbeatMs?: number;
  deadline?: NodeJS.Timeout;
}

/**
 * The task-token protocol of `.waitForTaskToken`, as Step Functions implements it: success, failure
 * (with the caller's error name, which Catch matches), heartbeat, and timeouts. aws-local-stepfunctions
 * enforces TimeoutSeconds but not HeartbeatSeconds, so heartbeats are enforced here.
 */
export class TaskTokens {
  private readonly waiting = new Map<string, WaitingTask>();
  private readonly timedOut = new Set<string>();

  open(token: string, heartbeatSeconds?: number, timeoutSeconds?: number): Promise<JSONValue> {
    return new Promise<JSONValue>((resolve, reject) => {
      const task: WaitingTask = { resolve, reject, heartbeatMs: heartbeatSeconds ? heartbeatSeconds * 1000 : undefined };
      this.waiting.set(token, task);
      this.armHeartbeat(token, task);
      if (timeoutSeconds) task.deadline = setTimeout(() => this.expire(token), timeoutSeconds * 1000);
    });
  }

  private armHeartbeat(token: string, task: WaitingTask) {
    if (task.heartbeat) clearTimeout(task.heartbeat);
    if (!task.heartbeatMs) return;
    task.heartbeat = setTimeout(() => {
      const error = Object.assign(new Error("No heartbeat was received within HeartbeatSeconds"), { name: "States.HeartbeatTimeout" });
      this.settle(token)?.reject(error);
      this.timedOut.add(token);
    }, task.heartbeatMs);
  }

  private expire(token: string) {
    const task = this.settle(token);
    if (!task) return;
    this.timedOut.add(token);
    task.reject(Object.assign(new Error("The task was not answered within TimeoutSeconds"), { name: "States.Timeout" }));
  }

  private settle(token: string): WaitingTask | undefined {
    const task = this.waiting.get(token);
    if (!task) return undefined;
    clearTimeout(task.heartbeat);
    clearTimeout(task.deadline);
    this.waiting.delete(token);
    return task;
  }

  private take(token: string): WaitingTask {
    if (this.timedOut.has(token)) throw new TaskTimedOut("Task Timed Out");
    const task = this.settle(token);
    if (!task) throw new TaskDoesNotExist("Task does not exist anymore");
    return task;
  }

  success(token: string, output: string) {
    let parsed: JSONValue;
    try {
      parsed = JSON.parse(output) as JSONValue;
    } catch {
      throw new InvalidOutput("Invalid output: not JSON");
    }
    this.take(token).resolve(parsed);
  }

  failure(token: string, error?: string, cause?: string) {
    this.take(token).reject(Object.assign(new Error(cause ?? ""), { name: error ?? "TaskFailed" }));
  }

  heartbeat(token: string) {
    if (this.timedOut.has(token)) throw new TaskTimedOut("Task Timed Out");
    const task = this.waiting.get(token);
    if (!task) throw new TaskDoesNotExist("Task does not exist anymore");
    this.armHeartbeat(token, task);
  }
}

export class InvalidOutput extends Error {
  override name = "InvalidOutput";
}

export class InvalidName extends Error {
  override name = "InvalidName";
}
export class InvalidExecutionInput extends Error {
  override name = "InvalidExecutionInput";
}

/** Step Functions' payload limit for execution input and output. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

interface Machine {
  name: string;
  definition: Record<string, unknown>;
  taskStates: string[];
  waitStates: Set<string>;
  /** Task states' own TimeoutSeconds, enforced from the moment their handler runs (see register). */
  taskTimeouts: Map<string, number>;
  retryStates: string[];
  /**
   * Built (and validated) once per definition: the validator compiles its JSON schemas on every
   * construction, which took a fifth of the runtime's CPU when each execution built its own.
   */
  stateMachine: StateMachine;
}

/** Every state name in a definition, nested Map and Parallel states included. */
function walkStates(definition: Record<string, unknown>, visit: (name: string, state: Record<string, unknown>) => void) {
  const states = (definition.States ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    visit(name, state);
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (processor) walkStates(processor, visit);
    for (const branch of (state.Branches ?? []) as Record<string, unknown>[]) walkStates(branch, visit);
  }
}

export interface LocalStepFunctionsOptions {
  /** Milliseconds to wait between retries instead of the ASL's intervals (tests use 0). */
  retryIntervalMs?: number;
  log?: (line: string) => void;
}

/**
 * Runs the very ASL files CDK deploys, with aws-local-stepfunctions. Each `lambda:invoke` Task is
 * served in-process the way the service integration behaves on AWS: the handler receives `Payload`
 * and the state receives `{Payload: result}`, so ResultSelector and OutputPath work the same.
 * Executions are recorded in DynamoDB: names are unique as on AWS, and a restart re-drives what was
 * running (every step is idempotent, so re-driving from the start is safe).
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, Machine>();
  private readonly running = new Map<string, Promise<void>>();
  readonly tokens = new TaskTokens();
  transitions = 0;
  /** Executions launched so far: each one's handler calls wait behind those of every older one. */
  private launched = 0;

  constructor(
    private readonly store: ExecutionRegistry,
    private readonly lambdas: FunctionInvoker,
    private readonly options: LocalStepFunctionsOptions = {},
  ) {}

  /** Loads an ASL file, resolving `${Placeholder}` substitutions to local function ARNs. */
  register(name: string, file: string, substitutions: Record<string, FunctionName>) {
    let text = readFileSync(file, "utf8");
    for (const [key, fn] of Object.entries(substitutions)) text = text.replaceAll(`\${${key}}`, localFunctionArn(fn));
    const unresolved = text.match(/\$\{[A-Za-z0-9]+\}/);
    if (unresolved) throw new Error(`${file}: substitution ${unresolved[0]} has no value`);
    const definition = JSON.parse(text) as Record<string, unknown>;
    const taskStates: string[] = [];
    const waitStates = new Set<string>();
    const taskTimeouts = new Map<string, number>();
    const retryStates: string[] = [];
    walkStates(definition, (stateName, state) => {
      if (state.Type === "Task") taskStates.push(stateName);
      if (state.Type === "Task" && !String(state.Resource).endsWith(".waitForTaskToken")) {
        // A Task's TimeoutSeconds bounds its work. Locally the engine would also count the time the call
        // waited for a free handler (the local stand-in for Lambda's concurrency limit: on AWS a throttled
        // call fails fast and is retried, it does not eat the task's time), and it times out at 60 s
        // where AWS's default is 99,999,999 s. So the engine's timer is lifted, and the handler's own
        // time is bounded by LocalLambdas instead, with the same States.Timeout error.
        if (typeof state.TimeoutSeconds === "number") taskTimeouts.set(stateName, state.TimeoutSeconds);
        state.TimeoutSeconds = 24 * 86_400;
      }
      if (state.Type === "Task" && String(state.Resource).endsWith(".waitForTaskToken")) {
        waitStates.add(stateName);
        // aws-local-stepfunctions reads TimeoutSecondsPath from the state's effective Parameters, where
        // AWS reads it from the state input, and it times every task out at 60 s by default. So here
        // the engine's own timeouts are lifted and the token store enforces the deadlines instead, from
        // the same values the ASL passes in the payload (timeoutSeconds, heartbeatSeconds).
        delete state.TimeoutSecondsPath;
        delete state.HeartbeatSecondsPath;
        // Below 2^31 ms: Node timers overflow past ~24.8 days and would fire at once.
        state.TimeoutSeconds = 24 * 86_400;
      }
      if (state.Retry) retryStates.push(stateName);
    });
    const stateMachine = new StateMachine(definition as never, { validationOptions: { checkPaths: true } });
    this.machines.set(localStateMachineArn(name), { name, definition, taskStates, waitStates, taskTimeouts, retryStates, stateMachine });
  }

  private machine(arn: string): Machine {
    const machine = this.machines.get(arn);
    if (!machine) throw new StateMachineDoesNotExist(`State machine ${arn} does not exist`);
    return machine;
  }

  /** StartExecution: same name and same input while running is the same execution; otherwise a name is used once. */
  async startExecution(stateMachineArn: string, name: string, input: string): Promise<{ executionArn: string; startDate: string }> {
    const machine = this.machine(stateMachineArn);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new InvalidName(`Invalid Name: '${name.slice(0, 100)}'`);
    // Validated before anything is stored, as on AWS: a bad input must not leave a wedged execution.
    if (Buffer.byteLength(input) > PAYLOAD_LIMIT_BYTES) throw new InvalidExecutionInput(`input is larger than ${PAYLOAD_LIMIT_BYTES} bytes`);
    try {
      JSON.parse(input);
    } catch {
      throw new InvalidExecutionInput("Invalid State Machine Execution Input: input is not JSON");
    }
    const executionArn = localExecutionArn(machine.name, name);
    const record: ExecutionRecord = { name, stateMachine: machine.name, input, status: "RUNNING", startDate: new Date().toISOString() };
    const created = await this.store.putIfAbsent({ pk: "LOCALEXEC", sk: name, ...record });
    if (!created) {
      const existing = await this.describe(name);
      if (existing?.status === "RUNNING" && existing.input === input) return { executionArn, startDate: existing.startDate };
      throw new ExecutionAlreadyExists(`Execution Already Exists: '${executionArn}'`);
    }
    this.launch(machine, record);
    return { executionArn, startDate: record.startDate };
  }

  private launch(machine: Machine, record: ExecutionRecord) {
    const priority = -++this.launched;
    const invokeTask = (stateName: string) => async (parameters: JSONValue): Promise<JSONValue> => {
      const { FunctionName, Payload } = parameters as { FunctionName: string; Payload: unknown };
      const fn = String(FunctionName).split(":").pop() as FunctionName;
      const timeoutSeconds = machine.taskTimeouts.get(stateName);
      const result = (await this.lambdas.invoke(fn, Payload, priority, timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000)) as JSONValue;
      return { Payload: result ?? null, StatusCode: 200, ExecutedVersion: "$LATEST" };
    };
    // `.waitForTaskToken`: mint the token, hand it to the function, then wait for an answer to it.
    const waitForToken = async (parameters: JSONValue): Promise<JSONValue> => {
      const { FunctionName, Payload } = parameters as { FunctionName: string; Payload: Record<string, unknown> };
      const token = `local-${randomUUID()}`;
      const payload = replaceDeep(Payload, TOKEN_PLACEHOLDER, token) as Record<string, unknown>;
      const answered = this.tokens.open(token, Number(payload.heartbeatSeconds) || undefined, Number(payload.timeoutSeconds) || undefined);
      await this.lambdas.invoke(String(FunctionName).split(":").pop() as FunctionName, payload, priority);
      return answered;
    };
    const overrides = Object.fromEntries(machine.taskStates.map((s) => [s, machine.waitStates.has(s) ? waitForToken : invokeTask(s)]));
    const retryIntervalOverrides =
      this.options.retryIntervalMs === undefined ? undefined : Object.fromEntries(machine.retryStates.map((s) => [s, this.options.retryIntervalMs!]));
    const sm = machine.stateMachine;
    const executionArn = localExecutionArn(machine.name, record.name);
    const execution = sm.run(JSON.parse(record.input), {
      overrides: { taskResourceLocalHandlers: overrides, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: record.name, Input: JSON.parse(record.input), StartTime: record.startDate },
        StateMachine: { Id: localStateMachineArn(machine.name), Name: machine.name },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    let transitions = 0;
    const counting = (async () => {
      for await (const event of execution.eventLogs) {
        if ((event as { type?: string }).type === "StateEntered") transitions++;
      }
    })().catch(() => undefined);
    const done = execution.result
      .then(
        (output: unknown) => ({ status: "SUCCEEDED" as const, output: JSON.stringify(output ?? null) }),
        (e: Error & { cause?: unknown }) => {
          // The engine wraps the failure (a Fail state's Error and Cause, or an uncaught task error).
          const failure = (e.cause ?? e) as { name?: string; message?: string };
          return { status: "FAILED" as const, error: failure.name ?? "Error", cause: failure.message ?? "" };
        },
      )
      .then(async (result) => {
        await counting;
        this.transitions += transitions;
        const outcome =
          "output" in result && Buffer.byteLength(result.output) > PAYLOAD_LIMIT_BYTES
            ? { status: "FAILED" as const, error: "States.DataLimitExceeded", cause: `output is larger than ${PAYLOAD_LIMIT_BYTES} bytes` }
            : result;
        try {
          await this.store.putItem({ pk: "LOCALEXEC", sk: record.name, ...record, ...outcome, transitions, stopDate: new Date().toISOString() });
        } catch (e) {
          // Never lose the ending: record it without the payloads if the full record cannot be stored.
          await this.store.putItem({ pk: "LOCALEXEC", sk: record.name, name: record.name, stateMachine: record.stateMachine, input: "{}", startDate: record.startDate, status: "FAILED", error: "RecordTooLarge", cause: (e as Error).message.slice(0, 300), stopDate: new Date().toISOString() });
        }
        this.options.log?.(`execution ${record.name} ${outcome.status}${"error" in outcome ? ` (${outcome.error})` : ""}`);
      })
      .catch((e: Error) => this.options.log?.(`execution ${record.name}: could not record its end: ${e.message}`))
      .finally(() => this.running.delete(record.name));
    this.running.set(record.name, done);
  }

  async describe(name: string): Promise<ExecutionRecord | undefined> {
    return (await this.store.getItem("LOCALEXEC", name)) as ExecutionRecord | undefined;
  }

  async list(): Promise<ExecutionRecord[]> {
    return (await this.store.queryPrefix("LOCALEXEC", "")) as unknown as ExecutionRecord[];
  }

  /** Re-drives executions that a stopped runtime left RUNNING. */
  async redrive(): Promise<string[]> {
    const unfinished = (await this.list()).filter((e) => e.status === "RUNNING" && !this.running.has(e.name));
    for (const record of unfinished) {
      try {
        this.launch(this.machine(localStateMachineArn(record.stateMachine)), record);
      } catch (e) {
        // One unreadable record must not keep the runtime from starting.
        await this.store.putItem({ pk: "LOCALEXEC", sk: record.name, ...record, status: "FAILED", error: "RedriveFailed", cause: (e as Error).message.slice(0, 300), stopDate: new Date().toISOString() });
      }
    }
    return unfinished.map((e) => e.name);
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /** Resolves when no execution is running. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /** Resolves when the named execution has finished. */
  async waitFor(name: string): Promise<ExecutionRecord | undefined> {
    await this.running.get(name);
    return this.describe(name);
  }
}
