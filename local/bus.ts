import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { ValidationError } from "../functions/lib/errors";
import { describeIssue } from "../functions/lib/issues";
import { matchesPattern } from "../functions/lib/pattern";
import type { BusRule } from "../functions/lib/rules";
import type { Store } from "../functions/lib/store";
import type { LocalLambdas } from "./lambda";

export interface PutEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: string | number | Date;
}

export interface BusEnvelope {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

const DELIVERY_ATTEMPTS = 3;
const RETRY_DELAYS_MS = [100, 500];

/**
 * The local event bus: evaluates the deployed rules' patterns, delivers to the same handlers
 * asynchronously with retries (as EventBridge → Lambda does), and dead-letters with the reason what
 * still fails, keeping the event so nothing is lost.
 */
export class LocalBus {
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats = { put: 0, delivered: 0, deadLettered: 0, unmatched: 0 };

  constructor(
    private readonly rules: BusRule[],
    private readonly lambdas: LocalLambdas,
    private readonly store: Store,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  putEvents(entries: PutEntry[]): Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }> {
    return entries.map((entry) => {
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? "");
      } catch {
        return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is not valid JSON" };
      }
      if (!entry.Source || !entry.DetailType) return { ErrorCode: "InvalidArgument", ErrorMessage: "Source and DetailType are required" };
      const envelope: BusEnvelope = {
        version: "0",
        id: randomUUID(),
        "detail-type": entry.DetailType,
        source: entry.Source,
        account: "000000000000",
        time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: "us-east-1",
        resources: [],
        detail,
      };
      this.stats.put++;
      const matched = this.rules.filter((rule) => matchesPattern(rule.pattern, envelope));
      if (matched.length === 0) this.stats.unmatched++;
      for (const rule of matched) this.track(this.deliver(rule, envelope));
      return { EventId: envelope.id };
    });
  }

  private track(p: Promise<void>) {
    const guarded = p.catch((e: Error) => this.log(`delivery bookkeeping failed: ${e.name}: ${e.message.split("\n")[0]}`));
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
  }

  private async deliver(rule: BusRule, envelope: BusEnvelope): Promise<void> {
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS; attempt++) {
      try {
        await this.lambdas.invoke(rule.target, envelope);
        this.stats.delivered++;
        return;
      } catch (e) {
        lastError = e as Error;
        // A payload that does not validate will not validate on retry either.
        if (lastError instanceof ValidationError || lastError.name === "ZodError" || lastError.name === "IdentityConflict") break;
        if (attempt < DELIVERY_ATTEMPTS) await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt - 1]));
      }
    }
    this.stats.deadLettered++;
    const message = lastError && "issues" in lastError ? describeIssue(lastError as unknown as z.ZodError) : (lastError?.message ?? "").split("\n")[0];
    const reason = `${lastError?.name ?? "Error"}: ${message?.slice(0, 300)}`;
    this.log(`dead-lettered ${envelope["detail-type"]} ${envelope.id} (rule ${rule.name}): ${reason}`);
    // Kept as text: whatever the event holds (numbers DynamoDB cannot store, say), the dead letter is written.
    await this.store.putItem({ pk: "DLQ", sk: `${envelope.time}#${envelope.id}#${rule.name}`, rule: rule.name, target: rule.target, reason, event: JSON.stringify(envelope).slice(0, 300_000) });
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** Resolves when every delivery started so far (and those they started) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
