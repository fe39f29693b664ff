import { Throttled } from "./errors";
import type { Store } from "./store";

export interface RateLimit {
  /** Callers that share a limit share a bucket (one per app, or one per organisation for Slack-like org-wide limits). */
  bucket: string;
  perMinute: number;
}

/** Calls reserved from a window's counter and not yet made, per store and bucket; one reservation in flight at a time. */
type Reservation = { window: number; left: number; pending?: Promise<number> };
const reservations = new WeakMap<object, Map<string, Reservation>>();

/**
 * How many calls one reservation takes from the shared counter: 1% of the limit, at most 10. Calls a
 * process reserved and did not make by the window's end are lost to everyone (that only errs under the
 * limit), so the batch stays a small share of it; a limit under 200 a minute reserves one call at a time.
 */
export const reservationSize = (perMinute: number) => Math.max(1, Math.min(10, Math.floor(perMinute / 100)));

/**
 * Keeps calls to a downstream under its per-minute limit across every concurrent run, in the Lambda
 * containers on AWS and the local runtime alike, with a fixed-window counter in the table (a
 * conditional increment). A process reserves a few calls per increment and hands them out itself, so a
 * busy app does not cost one table write per call; the counter never passes the limit. A full window
 * waits for the next one, within `maxWaitMs`; past that it throws Throttled and the state machine's
 * backoff takes over.
 */
export class RateLimiter {
  constructor(
    private readonly store: Pick<Store, "reserveBelow">,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly maxWaitMs = 20_000,
  ) {}

  private pool(): Map<string, Reservation> {
    let pool = reservations.get(this.store);
    if (!pool) reservations.set(this.store, (pool = new Map()));
    return pool;
  }

  async acquire(limit: RateLimit): Promise<void> {
    const deadline = this.now() + this.maxWaitMs;
    const pool = this.pool();
    for (;;) {
      const window = Math.floor(this.now() / 60_000);
      let held = pool.get(limit.bucket);
      if (!held || held.window !== window) pool.set(limit.bucket, (held = { window, left: 0 }));
      if (held.left > 0) {
        held.left--;
        return;
      }
      // Everyone short of a call waits for the one reservation in flight, then looks again.
      if (!held.pending) {
        const entry = held;
        entry.pending = this.reserve(limit, window).finally(() => (entry.pending = undefined));
        entry.left += await entry.pending;
        if (entry.left > 0) continue;
      } else if ((await held.pending) > 0) continue;
      const nextWindow = (window + 1) * 60_000;
      if (nextWindow > deadline) throw new Throttled(`rate limit ${limit.perMinute}/min of ${limit.bucket} reached`, Math.ceil((nextWindow - this.now()) / 1000));
      // A little jitter, so that the runs that waited do not all fire at the same instant.
      await this.sleep(nextWindow - this.now() + Math.floor(Math.random() * 250));
    }
  }

  /** Takes a batch from the window's counter, or the last single calls of it; 0 when the window is full. */
  private async reserve(limit: RateLimit, window: number): Promise<number> {
    const ttl = (window + 2) * 60;
    const key = [`RATE#${limit.bucket}`, String(window)] as const;
    const batch = reservationSize(limit.perMinute);
    if (await this.store.reserveBelow(...key, limit.perMinute, batch, ttl)) return batch;
    return batch > 1 && (await this.store.reserveBelow(...key, limit.perMinute, 1, ttl)) ? 1 : 0;
  }
}
