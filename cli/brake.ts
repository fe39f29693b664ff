import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { type BrakeReport, brakeReport, discardHeldRequests, engage, releaseHeldRequests } from "../functions/lib/brake";
import { BUS_SOURCE, InternalDetailType } from "../functions/lib/events";
import { CliError, catalogOf, type Target } from "./target";

export async function brakeStatus(target: Target, now = new Date()): Promise<BrakeReport> {
  return brakeReport(target.store, catalogOf(target).brake, now);
}

export function formatBrake(report: BrakeReport): string {
  const lines = [
    !report.enabled
      ? "The mass-departure brake is disabled by configuration (brake.enabled: false)."
      : report.state === "ENGAGED"
        ? `The brake is ENGAGED since ${report.since} (${report.by}): ${report.reason}`
        : `The brake is released${report.since ? ` (since ${report.since}, by ${report.by}: ${report.reason})` : ""}.`,
    `Window: ${report.window.count} departures or revocations in the last ${report.window.minutes} min; limit ${report.window.limit} (${report.window.basis}).`,
  ];
  if (report.held.length === 0) lines.push("Nothing is held.");
  else {
    lines.push(`${report.held.length} held (PENDING_CONFIRMATION):`);
    for (const h of report.held) lines.push(`  ${h.heldId}  ${h.kind.padEnd(11)} ${h.subjectId} from ${h.source} (${h.sourceEventId}), held ${h.heldAt}`);
    lines.push("Release with: npx revoke brake release --reason <why> [--held <id> ...]; drop with: npx revoke brake discard --reason <why> (--all | --held <id> ...)");
  }
  return lines.join("\n");
}

/** Engages the brake by hand: everything automatic is held from now on, until released. */
export async function holdByHand(target: Target, by: string, reason: string): Promise<boolean> {
  return engage(target.store, { by, reason, now: new Date() });
}

/**
 * Records the release under the engineer's name, then asks the pipeline to start each released
 * request (release-held reads the decision from the store: the event only points at it).
 */
export async function releaseByHand(target: Target, input: { by: string; reason: string; heldIds?: string[] }) {
  const result = await releaseHeldRequests(target.store, { ...input, now: new Date() });
  for (let i = 0; i < result.released.length; i += 10) {
    const batch = result.released.slice(i, i + 10);
    const put = await target.eventBridge.send(
      new PutEventsCommand({ Entries: batch.map((heldId) => ({ EventBusName: target.busName, Source: BUS_SOURCE, DetailType: InternalDetailType.HeldReleased, Detail: JSON.stringify({ heldId }) })) }),
    );
    // The decisions are recorded: a failed start is re-sent by running the same release for these ids.
    if (put.FailedEntryCount) throw new CliError(`released, but the bus refused ${put.FailedEntryCount} start(s); run the release again with --held ${batch.join(" --held ")}`);
  }
  return result;
}

export async function discardByHand(target: Target, input: { by: string; reason: string; heldIds?: string[] }) {
  return discardHeldRequests(target.store, { ...input, now: new Date() });
}
