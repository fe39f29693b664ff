import { MetricUnit } from "@aws-lambda-powertools/metrics";
import * as z from "zod";
import { applyBrake, hold, RELEASED_NOTE } from "./brake";
import type { Catalog } from "./catalog";
import { DetailType } from "./events";
import { logger, metrics } from "./observability";
import { type OffboardInput, runNameFor } from "./runs";
import { type Store, Trigger } from "./store";

/**
 * Revoking some apps of a person who stays: a mover who left the group that granted an app, an account
 * whose end date came, a reconciliation finding, or an engineer's `revoke offboard --app`. It runs the
 * same `offboard` state machine with `action: "revoke-apps"` (no front door, only the named apps), so
 * SCIM, human tasks, verification and evidence are exactly those of an offboarding.
 */
export const AppRevocationRequest = z.object({
  subjectId: z.string().min(1),
  appIds: z.array(z.string().min(1)).min(1),
  trigger: Trigger,
  kind: z.enum(["mover", "expiry", "reconcile", "manual"]),
});
export type AppRevocationRequest = z.infer<typeof AppRevocationRequest>;
export type AppRevocationKind = AppRevocationRequest["kind"];

export interface AppRevocationDeps {
  store: Store;
  catalog: Catalog;
  startExecution: (name: string, input: OffboardInput) => Promise<void>;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now: () => Date;
  /** Set when an engineer released the brake for this request. */
  brakeReleased?: boolean;
}

export type AppRevocationOutcome = { action: "started" | "held" | "duplicate"; runName: string; brake?: string };

export async function startAppRevocation(request: AppRevocationRequest, deps: AppRevocationDeps): Promise<AppRevocationOutcome> {
  const { subjectId, trigger, kind } = request;
  const appIds = [...new Set(request.appIds)].sort();
  // Named after the request, so a replayed mover event or a re-run reconciliation starts nothing new.
  const runName = runNameFor(subjectId, `${trigger.sourceEventId}#${appIds.join(",")}`, kind === "manual" ? "revoke" : kind);
  const now = deps.now();
  const existing = await deps.store.getRun(subjectId, runName);
  if (existing && !(existing.status === "HELD" && deps.brakeReleased)) {
    // The first attempt may have died between its record and its start: start again, same name, same input.
    if (existing.status === "RUNNING") await deps.startExecution(runName, { runName, subjectId, trigger: existing.trigger, dryRun: false, action: "revoke-apps", appIds });
    return { action: "duplicate", runName };
  }

  let brakeNote: string | undefined;
  if (!deps.brakeReleased) {
    const verdict = await applyBrake(deps.store, deps.catalog.brake, { subjectId, sourceEventId: `${trigger.sourceEventId}#${appIds.join(",")}`, source: trigger.source }, now);
    if (verdict.engagedNow) await announceBrake(deps, verdict.reason);
    if (verdict.verdict === "hold") {
      const held = await hold(deps.store, {
        kind: "revoke-apps",
        subjectId,
        sourceEventId: trigger.sourceEventId,
        source: trigger.source,
        request: { subjectId, appIds, trigger, kind },
        heldAt: now.toISOString(),
        reason: verdict.reason,
      });
      await deps.store.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}`, subjectId, runName, trigger, dryRun: false, status: "HELD", startedAt: now.toISOString(), results: [], summary: `held by the mass-departure brake (${held.heldId}): ${verdict.reason}` });
      logger.warn("app revocation held by the brake", { subjectId, kind, heldId: held.heldId });
      return { action: "held", runName, brake: verdict.reason };
    }
    if (verdict.verdict === "bypass") brakeNote = verdict.reason;
  } else {
    brakeNote = RELEASED_NOTE;
  }

  const recordedTrigger: Trigger = brakeNote ? { ...trigger, brake: brakeNote } : trigger;
  await deps.store.putItem({ pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}`, subjectId, runName, trigger: recordedTrigger, dryRun: false, status: "RUNNING", startedAt: now.toISOString(), results: [] });
  await deps.startExecution(runName, { runName, subjectId, trigger: recordedTrigger, dryRun: false, action: "revoke-apps", appIds });
  metrics.addMetric("AppRevocationsStarted", MetricUnit.Count, 1);
  logger.info("app revocation started", { subjectId, kind, runName, apps: appIds.length });
  return { action: "started", runName, brake: brakeNote };
}

/** The brake just engaged: on the bus (for whoever listens) and as a metric the alarm watches. */
export async function announceBrake(deps: { publish: AppRevocationDeps["publish"] }, reason: string): Promise<void> {
  metrics.addMetric("BrakeEngaged", MetricUnit.Count, 1);
  logger.warn("mass-departure brake engaged", { reason });
  await deps.publish([{ detailType: DetailType.BrakeEngaged, detail: { reason, engagedAt: new Date().toISOString() } }]);
}
