import { readFileSync } from "node:fs";
import { StateMachine } from "aws-local-stepfunctions";

// The package does not export its JSON type; this is the same shape.
type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };
import type { FunctionName } from "../functions/lib/rules";
import type { Store } from "../functions/lib/store";

/** What the engine needs of the store and of the functions: the real ones, or stubs in ASL tests. */
export type ExecutionRegistry = Pick<Store, "putIfAbsent" | "getItem" | "putItem" | "queryPrefix">;
export interface FunctionInvoker {
  invoke(name: FunctionName, event: unknown): Promise<unknown>;
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
  retryStates: string[];
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
  transitions = 0;

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
    const retryStates: string[] = [];
    walkStates(definition, (stateName, state) => {
      if (state.Type === "Task") taskStates.push(stateName);
      if (state.Retry) retryStates.push(stateName);
    });
    this.machines.set(localStateMachineArn(name), { name, definition, taskStates, retryStates });
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
    const invokeTask = async (parameters: JSONValue): Promise<JSONValue> => {
      const { FunctionName, Payload } = parameters as { FunctionName: string; Payload: unknown };
      const fn = String(FunctionName).split(":").pop() as FunctionName;
      const result = (await this.lambdas.invoke(fn, Payload)) as JSONValue;
      return { Payload: result ?? null, StatusCode: 200, ExecutedVersion: "$LATEST" };
    };
    const overrides = Object.fromEntries(machine.taskStates.map((s) => [s, invokeTask]));
    const retryIntervalOverrides =
      this.options.retryIntervalMs === undefined ? undefined : Object.fromEntries(machine.retryStates.map((s) => [s, this.options.retryIntervalMs!]));
    const sm = new StateMachine(machine.definition as never, { validationOptions: { checkPaths: true } });
    const executionArn = localExecutionArn(machine.name, record.name);
    const execution = sm.run(JSON.parse(record.input), {
      overrides: { taskResourceLocalHandlers: overrides, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: record.name, Input: JSON.parse(record.input), StartTime: record.startDate },
        StateMachine: { Id: localStateMachineArn(machine.name), Name: machine.name },
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
