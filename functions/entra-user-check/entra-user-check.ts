import { DetailType, EntraUserChanged, InternalDetailType } from "../lib/events";
import type { EntraUserState, GraphClient } from "../lib/graph";
import { logger } from "../lib/observability";
import type { Store } from "../lib/store";

export interface EntraCheckDeps {
  /** Undefined when Entra ID is not configured. */
  graph: () => GraphClient | undefined;
  store: Store;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now: () => Date;
}

/** At most this many delta pages per run, so one run stays well inside a Lambda's time. */
const MAX_DELTA_PAGES = 50;

/** A disabled or deleted user is a departure, one per user and state, however many notifications say so. */
function departureOf(user: EntraUserState, now: Date) {
  return {
    detailType: DetailType.Departed,
    detail: {
      subject: { entraId: user.id, ...(user.email ? { email: user.email } : {}) },
      occurredAt: now.toISOString(),
      source: "entra",
      sourceEventId: `entra:${user.id}:${user.state}`,
      reason: `Entra ID user ${user.state}`,
    },
  };
}

/**
 * Entra.UserChanged (from a Graph notification): look the user up, and put a departure on the bus if
 * they are disabled or deleted. Entra.SweepRequested or a scheduled call: page through users/delta
 * from the last deltaLink, catching what no notification announced; only people this pipeline knows
 * (by Entra id or email) and who are still ACTIVE become departures, so the first full sweep does not
 * offboard every account ever disabled in the tenant.
 */
export async function entraUserCheck(event: unknown, deps: EntraCheckDeps): Promise<{ departures: number; checked: number; skipped?: string }> {
  const graph = deps.graph();
  if (!graph) return { departures: 0, checked: 0, skipped: "Entra ID is not configured" };
  const now = deps.now();
  const detailType = (event as { "detail-type"?: string })?.["detail-type"];

  if (detailType === InternalDetailType.EntraUserChanged) {
    const change = EntraUserChanged.parse((event as { detail: unknown }).detail);
    const user = await graph.lookupUser(change.entraId);
    if (user.state === "enabled") return { departures: 0, checked: 1 };
    if (user.unknownToEntra && !(await deps.store.findSubject({ entraId: user.id }))) {
      logger.info("notification about an id unknown to Entra and to this pipeline: ignored", { entraId: user.id.slice(0, 64) });
      return { departures: 0, checked: 1, skipped: "unknown user" };
    }
    await deps.publish([departureOf(user, now)]);
    logger.info("entra user is gone: departure", { entraId: user.id, state: user.state });
    return { departures: 1, checked: 1 };
  }

  const cursor = await deps.store.getItem("ENTRA", "DELTA");
  let link = typeof cursor?.link === "string" ? cursor.link : undefined;
  let departures = 0;
  let checked = 0;
  for (let page = 0; page < MAX_DELTA_PAGES; page++) {
    const result = await graph.usersDelta(link);
    checked += result.users.length;
    const gone = result.users.filter((u) => u.state !== "enabled");
    for (const user of gone) {
      const known = (await deps.store.findSubject({ entraId: user.id })) ?? (user.email ? await deps.store.findSubject({ email: user.email }) : undefined);
      if (known?.status !== "ACTIVE") continue;
      await deps.publish([departureOf(user, now)]);
      departures++;
    }
    link = result.nextLink ?? result.deltaLink;
    // Saved after every page: a run that stops half-way resumes here instead of starting over.
    await deps.store.putItem({ pk: "ENTRA", sk: "DELTA", link, savedAt: now.toISOString() });
    if (!result.nextLink) break;
  }
  logger.info("users/delta sweep", { checked, departures });
  return { departures, checked };
}
