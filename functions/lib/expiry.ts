import type { AppEntry, ExpirySettings } from "./catalog";
import type { IdentityDetail } from "./events";
import type { Account } from "./store";

const DAY_MS = 86_400_000;

/**
 * When an arriving account ends, and who owns it until then: the arrival's own end date (which must
 * name an owner), the app's time box, the privileged default, whichever comes first. None of them:
 * the account lasts until the person leaves, moves, or reconciliation finds it.
 */
export function expiryFor(
  arrival: Pick<IdentityDetail, "occurredAt" | "expiresAt" | "owner" | "privileged">,
  app: AppEntry | undefined,
  settings: ExpirySettings,
): { expiresAt: string; owner: string; privileged: boolean; basis: string } | undefined {
  const start = Date.parse(arrival.occurredAt);
  const privileged = Boolean(arrival.privileged || app?.privileged);
  const candidates: Array<{ at: number; basis: string }> = [];
  if (arrival.expiresAt) candidates.push({ at: Date.parse(arrival.expiresAt), basis: "end date given at arrival" });
  if (app?.maxAccessDays) candidates.push({ at: start + app.maxAccessDays * DAY_MS, basis: `${app.id} grants at most ${app.maxAccessDays} days` });
  if (privileged) candidates.push({ at: start + settings.privilegedDays * DAY_MS, basis: `privileged accounts end after ${settings.privilegedDays} days` });
  if (candidates.length === 0) return undefined;
  const first = candidates.reduce((a, b) => (b.at < a.at ? b : a));
  const owner = arrival.owner ?? app?.owner;
  if (!owner) return undefined;
  return { expiresAt: new Date(first.at).toISOString(), owner, privileged, basis: first.basis };
}

/**
 * Which reminder is due for an end date: the shortest lead time that has been reached and not sent.
 * The caller marks it and every longer lead time as sent: an account created 3 days before its end
 * gets the 7-day reminder at once and the 1-day one when that day comes, never a late 7-day one.
 */
export function reminderDue(expiresAt: string, now: Date, leadDays: number[], alreadySent: number[]): number | undefined {
  const left = Date.parse(expiresAt) - now.getTime();
  if (left <= 0) return undefined;
  const reached = leadDays.filter((d) => left <= d * DAY_MS).sort((a, b) => a - b);
  const shortest = reached[0];
  return shortest !== undefined && !alreadySent.includes(shortest) ? shortest : undefined;
}

/** `--until 2027-01-31` means the end of that day (UTC); a full timestamp is taken as given. */
export function parseUntil(value: string): string | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(dateOnly ? `${value}T23:59:59Z` : value);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  return new Date(ms).toISOString();
}

/**
 * An end date still ends something: the account is there, not already revoked, not kept by an owner's
 * recorded decision (RETAINED: a legal hold is not undone by a calendar), and the date is still its own
 * (an extension or a new arrival superseded the older one).
 */
export function stillEnds(account: Account | undefined, expiresAt: string): boolean {
  return Boolean(account && account.state !== "REVOKED" && account.state !== "RETAINED" && account.expiresAt === expiresAt);
}
