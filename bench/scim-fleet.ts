import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";

/** M SCIM apps (scimmy, with injected latency) in a child process, as the bench's downstream. */
export class ScimFleet {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrls: string[],
  ) {}

  static async start(tokens: string[], latencyMs: number): Promise<ScimFleet> {
    const child = fork(new URL("./scim-fleet-child.ts", import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, SCIM_FLEET: JSON.stringify({ tokens, latencyMs }) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const started = (await ScimFleet.next(child, "started")) as { baseUrls: string[] };
    return new ScimFleet(child, started.baseUrls);
  }

  private static async next(child: ChildProcess, type: string): Promise<Record<string, unknown>> {
    for (;;) {
      const [message] = (await Promise.race([once(child, "message"), once(child, "exit").then(() => [{ type: "exit" }])])) as [Record<string, unknown>];
      if (message.type === "exit") throw new Error("the SCIM apps' process exited");
      if (message.type === type) return message;
    }
  }

  /** Creates each email's account in every app, as JIT provisioning would at a first sign-in. */
  async seed(emails: string[]): Promise<void> {
    this.child.send({ type: "seed", emails });
    await ScimFleet.next(this.child, "seeded");
  }

  /** Requests served so far, the process's resident memory, and the CPU time it has used (user + system). */
  async stats(): Promise<{ requests: number; rssBytes: number; cpuMicros: number }> {
    this.child.send({ type: "requests" });
    const m = await ScimFleet.next(this.child, "requests");
    return { requests: Number(m.count), rssBytes: Number(m.rssBytes), cpuMicros: Number(m.cpuMicros) };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.send({ type: "stop" });
    await ScimFleet.next(this.child, "stopped").catch(() => undefined);
  }
}
