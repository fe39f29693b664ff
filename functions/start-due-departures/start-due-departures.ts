import { DetailType, IdentityDetail } from "../lib/events";
import { logger } from "../lib/observability";
import type { Store } from "../lib/store";

export interface DueDeps {
  store: Store;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now: () => Date;
}

/**
 * Scheduled work: every departure whose day has come goes back on the bus as the departure it was.
 * Claimed before it is published, so overlapping runs start it once; if publishing fails after the
 * claim the error propagates and the item is released, so it is retried rather than lost.
 */
export async function startDueDepartures(deps: DueDeps): Promise<{ started: number }> {
  const now = deps.now();
  // Due on its calendar day (UTC), the same rule start-offboarding applies.
  const endOfToday = `${now.toISOString().slice(0, 10)}T23:59:59.999Z`;
  let started = 0;
  for (const item of await deps.store.dueDepartures(endOfToday)) {
    if (!(await deps.store.claimDueDeparture(item, now.toISOString()))) continue;
    try {
      await deps.publish([{ detailType: DetailType.Departed, detail: IdentityDetail.parse(item.detail) }]);
    } catch (e) {
      await deps.store.putItem({ ...item, pk: "SCHEDULED", state: "SCHEDULED" });
      throw e;
    }
    started++;
    logger.info("scheduled departure is due", { subjectId: item.subjectId, effectiveAt: item.effectiveAt });
  }
  return { started };
}
