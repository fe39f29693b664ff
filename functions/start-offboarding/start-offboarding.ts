import { ExecutionAlreadyExists, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { announceBrake } from "../lib/app-revocation";
import { applyBrake, hold, RELEASED_NOTE } from "../lib/brake";
import type { Catalog } from "../lib/catalog";
import { sfnClient } from "../lib/aws";
import { requiredEnv } from "../lib/config";
import { DetailType, type IdentityDetail, identityEnvelope } from "../lib/events";
import { logger } from "../lib/observability";
import { type OffboardInput, runNameFor } from "../lib/runs";
import type { Store, Trigger } from "../lib/store";

export interface StartDeps {
  store: Store;
  startExecution: (name: string, input: OffboardInput) => Promise<void>;
  now: () => Date;
  /** With these the mass-departure brake applies (the handler always passes them). */
  catalog?: Catalog;
  publish?: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  /** An engineer released the brake for this departure. */
  brakeReleased?: boolean;
}

export type StartOutcome =
  | { action: "started"; runName: string; subjectId: string }
  | { action: "resumed"; runName: string; subjectId: string }
  | { action: "duplicate"; subjectId: string; status: string; runName?: string }
  | { action: "scheduled"; subjectId: string; effectiveAt: string }
  | { action: "suspending"; subjectId: string; runName: string }
  | { action: "held"; subjectId: string; heldId?: string; reason: string }
  | { action: "cancelled" | "cancel-too-late" | "cancel-unknown"; subjectId: string };

/**
 * "Effective today or earlier starts at once": compared by calendar day in UTC, so a termination
 * effective later today starts now, and one effective tomorrow waits for the scheduler.
 */
export function takesEffectLater(effectiveAt: string, now: Date): boolean {
  return effectiveAt.slice(0, 10) > now.toISOString().slice(0, 10);
}

export function triggerOf(detail: IdentityDetail): Trigger {
  return {
    source: detail.source,
    sourceEventId: detail.sourceEventId,
    occurredAt: detail.occurredAt,
    reason: detail.reason,
    actor: detail.actor,
  };
}

/**
 * Identity.Departed → at most one offboarding per departure of a person. The subject moves to
 * DEPARTING with a conditional write; a duplicate, a replay, or the same departure reported by a
 * second source finds the subject already departing and starts nothing new. The execution name is
 * derived from the departure, so even a retried start cannot create a second execution.
 */
export async function startOffboarding(rawEnvelope: unknown, deps: StartDeps): Promise<StartOutcome> {
  const { detailType, detail } = identityEnvelope(rawEnvelope);
  const now = deps.now();
  const profile = await deps.store.resolveSubject(detail.subject, now.toISOString());
  const subjectId = profile.subjectId;
  const trigger = triggerOf(detail);

  if (detailType === DetailType.DepartureCancelled) {
    const outcome = await deps.store.cancelScheduledDeparture(subjectId, detail.cancels ?? "", now.toISOString());
    // Too late is loud: the person may already have lost access and HR thinks they should not have.
    if (outcome === "already-started") logger.warn("cancellation arrived after the departure started", { subjectId });
    else logger.info("departure cancellation", { subjectId, outcome });
    return { action: outcome === "cancelled" ? "cancelled" : outcome === "already-started" ? "cancel-too-late" : "cancel-unknown", subjectId };
  }

  if (detailType === DetailType.Suspended) {
    // Front door only: the person keeps their accounts and their status; one run per suspension event.
    const runName = runNameFor(subjectId, detail.sourceEventId, "suspend");
    let suspendTrigger = trigger;
    // A wave of suspensions disables everyone at the IdPs just as surely as a wave of departures.
    if (deps.catalog && !deps.brakeReleased && !(await deps.store.getRun(subjectId, runName))) {
      const verdict = await applyBrake(deps.store, deps.catalog.brake, { subjectId, sourceEventId: detail.sourceEventId, source: detail.source }, now);
      if (verdict.engagedNow && deps.publish) await announceBrake({ publish: deps.publish }, verdict.reason);
      if (verdict.verdict === "hold") {
        const held = await hold(deps.store, { kind: "suspension", subjectId, sourceEventId: detail.sourceEventId, source: detail.source, request: detail, heldAt: now.toISOString(), reason: verdict.reason });
        logger.warn("suspension held by the mass-departure brake", { subjectId, heldId: held.heldId, source: detail.source });
        return { action: "held", subjectId, heldId: held.heldId, reason: verdict.reason };
      }
      if (verdict.verdict === "bypass") suspendTrigger = { ...trigger, brake: verdict.reason };
    }
    if (deps.brakeReleased) suspendTrigger = { ...trigger, brake: RELEASED_NOTE };
    await deps.store.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}`, subjectId, runName, trigger: suspendTrigger, dryRun: false, status: "RUNNING", startedAt: now.toISOString(), results: [] });
    await deps.startExecution(runName, { runName, subjectId, trigger: suspendTrigger, action: "suspend" });
    logger.info("suspension started", { subjectId, runName, source: detail.source });
    return { action: "suspending", subjectId, runName };
  }

  if (detailType === DetailType.Departed && detail.effectiveAt && takesEffectLater(detail.effectiveAt, now)) {
    // start-due-departures puts it back on the bus on its day (the local runtime's timer, or
    // EventBridge Scheduler on AWS); `revoke status` lists it meanwhile.
    await deps.store.scheduleDeparture({ subjectId, effectiveAt: detail.effectiveAt, sourceEventId: detail.sourceEventId, detail, now: now.toISOString() });
    logger.info("departure scheduled", { subjectId, effectiveAt: detail.effectiveAt });
    return { action: "scheduled", subjectId, effectiveAt: detail.effectiveAt };
  }

  // Each departure event starts at most one run, ever: its marker is written before the run is claimed.
  // (A retry of the same event while the run is still DEPARTING is resumed below, not refused.)
  const marker = { pk: `SUBJECT#${subjectId}`, sk: `DEPARTURE#${detail.sourceEventId}` };
  if (profile.status === "NEEDS_ATTENTION" && (await deps.store.getItem(marker.pk, marker.sk))) {
    logger.info("duplicate departure ignored", { subjectId, status: profile.status, source: detail.source });
    return { action: "duplicate", subjectId, status: profile.status, runName: profile.lastRun };
  }
  // A re-drive after NEEDS_ATTENTION (by a new departure event) gets a name of its own: names are never reused.
  let runTrigger = trigger;
  // An engineer offboarding a person the brake holds has decided: it passes (and the held request then starts nothing).
  if (profile.status === "PENDING_CONFIRMATION" && !deps.brakeReleased && detail.source !== "manual") {
    // Every report of the departure is held on its own: discarding one (a bad HR file) must not drop
    // another source's real one (the IdP deactivated the person too). Not counted again in the window.
    const reason = "this person's departure is already held by the brake";
    const held = await hold(deps.store, { kind: "departure", subjectId, sourceEventId: detail.sourceEventId, source: detail.source, request: detail, heldAt: now.toISOString(), reason });
    logger.info("departure already held by the brake; this report held too", { subjectId, heldId: held.heldId, source: detail.source });
    return { action: "held", subjectId, heldId: held.heldId, reason };
  }
  if (deps.catalog && !deps.brakeReleased && (profile.status === "ACTIVE" || profile.status === "NEEDS_ATTENTION" || profile.status === "PENDING_CONFIRMATION")) {
    const verdict = await applyBrake(deps.store, deps.catalog.brake, { subjectId, sourceEventId: detail.sourceEventId, source: detail.source }, now);
    if (verdict.engagedNow && deps.publish) await announceBrake({ publish: deps.publish }, verdict.reason);
    if (verdict.verdict === "hold") {
      const held = await hold(deps.store, { kind: "departure", subjectId, sourceEventId: detail.sourceEventId, source: detail.source, request: detail, heldAt: now.toISOString(), reason: verdict.reason });
      await deps.store.holdSubject(subjectId);
      logger.warn("departure held by the mass-departure brake", { subjectId, heldId: held.heldId, source: detail.source });
      return { action: "held", subjectId, heldId: held.heldId, reason: verdict.reason };
    }
    if (verdict.verdict === "bypass") runTrigger = { ...trigger, brake: verdict.reason };
  }
  if (deps.brakeReleased) runTrigger = { ...trigger, brake: RELEASED_NOTE };
  const runKey = profile.status === "NEEDS_ATTENTION" ? `${detail.sourceEventId}#after#${profile.lastRun ?? ""}` : detail.sourceEventId;
  const runName = runNameFor(subjectId, runKey);
  const claim = await deps.store.beginDeparture({ subjectId, runName, trigger: runTrigger, now: now.toISOString() });
  if (claim.owner) {
    await deps.store.putItem({ ...marker, runName, receivedAt: now.toISOString() });
    await deps.startExecution(runName, { runName, subjectId, trigger: runTrigger, dryRun: false });
    logger.info("offboarding started", { subjectId, runName, source: detail.source });
    return { action: "started", runName, subjectId };
  }
  if (claim.status === "DEPARTING" && claim.runName) {
    // The owner may have crashed between its write and its start: start again by the same name and input.
    const run = await deps.store.getRun(subjectId, claim.runName);
    if (run) await deps.startExecution(claim.runName, { runName: claim.runName, subjectId, trigger: run.trigger, dryRun: false });
    logger.info("departure already in progress", { subjectId, runName: claim.runName, source: detail.source });
    return { action: "resumed", runName: claim.runName, subjectId };
  }
  logger.info("duplicate departure ignored", { subjectId, status: claim.status, source: detail.source });
  return { action: "duplicate", subjectId, status: claim.status, runName: claim.runName };
}

/** StartExecution that treats "already exists" as success: that is the idempotency we asked for. */
export async function startOffboardExecution(name: string, input: OffboardInput): Promise<void> {
  try {
    await sfnClient().send(new StartExecutionCommand({ stateMachineArn: requiredEnv("STATE_MACHINE_ARN"), name, input: JSON.stringify(input) }));
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists || (e as Error).name === "ExecutionAlreadyExists") return;
    throw e;
  }
}
