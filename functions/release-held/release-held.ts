import * as z from "zod";
import { type AppRevocationDeps, type AppRevocationOutcome, AppRevocationRequest, startAppRevocation } from "../lib/app-revocation";
import { HeldRequest } from "../lib/brake";
import { ValidationError } from "../lib/errors";
import { BUS_SOURCE, BusEnvelope, DetailType, IdentityDetail } from "../lib/events";
import { logger } from "../lib/observability";
import { type StartOutcome, startOffboarding } from "../start-offboarding/start-offboarding";

export const HeldReleasedDetail = z.object({ heldId: z.string().min(1).max(64) });

export type ReleaseOutcome =
  | { action: "ignored"; heldId: string; reason: string }
  | { action: "departure" | "suspension"; heldId: string; outcome: StartOutcome }
  | { action: "revoke-apps"; heldId: string; outcome: AppRevocationOutcome };

/**
 * An engineer released a request the brake held (`revoke brake release`): start it exactly as it would
 * have started, now past the brake. The decision itself is the HELD record's state, written by the CLI
 * under the engineer's identity; this event only says "look at it", so a forged or replayed one can
 * start nothing that was not released, and the starts below are idempotent (same run names as ever).
 */
export async function releaseHeld(rawEnvelope: unknown, deps: AppRevocationDeps): Promise<ReleaseOutcome> {
  const envelope = BusEnvelope.parse(rawEnvelope);
  const parsed = HeldReleasedDetail.safeParse(envelope.detail);
  if (!parsed.success) throw new ValidationError("Brake.HeldReleased needs a heldId");
  const { heldId } = parsed.data;
  const item = await deps.store.getItem("HELD", heldId);
  if (!item) return { action: "ignored", heldId, reason: "no such held request" };
  const held = HeldRequest.parse(item);
  if (held.state !== "RELEASED") return { action: "ignored", heldId, reason: `the held request is ${held.state}, not RELEASED` };

  if (held.kind === "departure" || held.kind === "suspension") {
    const detail = IdentityDetail.parse(held.request);
    const detailType = held.kind === "departure" ? DetailType.Departed : DetailType.Suspended;
    const outcome = await startOffboarding({ id: `release-${heldId}`, "detail-type": detailType, source: BUS_SOURCE, time: deps.now().toISOString(), detail }, { ...deps, brakeReleased: true });
    logger.info("held request released", { heldId, kind: held.kind, subjectId: held.subjectId, action: outcome.action });
    return { action: held.kind, heldId, outcome };
  }
  const outcome = await startAppRevocation(AppRevocationRequest.parse(held.request), { ...deps, brakeReleased: true });
  logger.info("held app revocation released", { heldId, subjectId: held.subjectId, action: outcome.action });
  return { action: "revoke-apps", heldId, outcome };
}
