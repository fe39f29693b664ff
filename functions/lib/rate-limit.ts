import { Throttled } from "./errors";
import type { Store } from "./store";

export interface RateLimit {
  /** Callers that share a limit share a bucket (one per app, or one per organisation for Slack-like org-wide limits). */
  bucket: string;
  perMinute: number;
}

/**
 * Keeps calls to a downstream under its per-minute limit across every concurrent run, in the Lambda
 * containers on AWS and the local runtime alike, with a fixed-window counter in the table (a
 * conditional increment per call). A full window waits for the next one, within `maxWaitMs`; past that
 * it throws Throttled and the state machine's backoff takes over.
 */
export class RateLimiter {
  constructor(
    private readonly store: Pick<Store, "incrementIfBelow">,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly maxWaitMs = 20_000,
  ) {}

  async acquire(limit: RateLimit): Promise<void> {
    const deadline = this.now() + this.maxWaitMs;
    for (;;) {
      const window = Math.floor(this.now() / 60_000);
      if (await this.store.incrementIfBelow(`RATE#${limit.bucket}`, String(window), limit.perMinute, (window + 2) * 60)) return;
      const nextWindow = (window + 1) * 60_000;
      if (nextWindow > deadline) throw new Throttled(`rate limit ${limit.perMinute}/min of ${limit.bucket} reached`, Math.ceil((nextWindow - this.now()) / 1000));
      // A little jitter, so that the runs that waited do not all fire at the same instant.
      await this.sleep(nextWindow - this.now() + Math.floor(Math.random() * 250));
    }
  }
}
