import * as z from "zod";
import { DetailType } from "../lib/events";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logger, metrics } from "../lib/observability";
import { AppResult, IdpResult, type Store, Trigger } from "../lib/store";
import { causeMessage } from "../record-app-outcome/record-app-outcome";

const CloseInput = z.object({
  subjectId: z.string().optional(),
  runName: z.string(),
  trigger: Trigger,
  dryRun: z.boolean().default(false),
  frontDoorOnly: z.boolean().default(false),
  scope: z.enum(["person", "apps"]).optional(),
  /** Present when the plan failed and only the execution input reached this step. */
  action: z.string().optional(),
  idpResults: z.array(IdpResult).default([]),
  results: z.array(AppResult).optional(),
  skipped: z.array(z.object({ appId: z.string(), state: z.string(), reason: z.string() })).default([]),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

export const RunSummary = z.object({
  subjectId: z.string(),
  runName: z.string(),
  status: z.enum(["OFFBOARDED", "SUSPENDED", "REVOKED", "NEEDS_ATTENTION"]),
  summary: z.string(),
  apps: z.array(AppResult),
  idp: z.array(IdpResult),
  accessSurvivedMs: z.number().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export interface CloseDeps {
  store: Store;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now: () => Date;
}

/**
 * Close: OFFBOARDED only when every planned app is REVOKED and verified and the run itself did not
 * fail; anything else is NEEDS_ATTENTION, recorded on the run and the subject and put on the bus.
 */
/** From the departure event to the last IdP session revocation; null unless every IdP closed. */
export function accessSurvivedMs(occurredAt: string, idps: IdpResult[]): number | null {
  if (idps.length === 0 || idps.some((i) => i.state !== "REVOKED")) return null;
  const revoked = idps.map((i) => Date.parse(i.sessionsRevokedAt ?? i.disabledAt ?? "")).filter((t) => !Number.isNaN(t));
  if (revoked.length === 0) return null;
  return Math.max(0, Math.max(...revoked) - Date.parse(occurredAt));
}

export async function closeRun(rawInput: unknown, deps: CloseDeps): Promise<RunSummary> {
  const input = CloseInput.parse(rawInput);
  const subjectId = input.subjectId ?? "unknown";
  const results = input.results ?? [];
  // RETAINED is an owner's explicit decision (a legal hold, say): shown in the summary, not a failure.
  const failed = results.filter((r) => r.state !== "REVOKED" && r.state !== "RETAINED");
  const retained = results.filter((r) => r.state === "RETAINED");
  const idpFailed = input.idpResults.filter((i) => i.state !== "REVOKED");
  // A suspension is the front door and nothing else: with no IdP configured it closed nothing.
  const suspendedNothing = input.frontDoorOnly && !input.error && input.idpResults.length === 0;
  const ok = !input.error && failed.length === 0 && idpFailed.length === 0 && !suspendedNothing;
  const scope = input.scope ?? (input.action === "revoke-apps" ? "apps" : "person");
  const status = !ok ? "NEEDS_ATTENTION" : input.frontDoorOnly ? "SUSPENDED" : scope === "apps" ? "REVOKED" : "OFFBOARDED";
  const parts: string[] = [];
  if (input.error) parts.push(`run failed before finishing: ${input.error.Error}: ${causeMessage(input.error.Cause) ?? "no detail"}`);
  if (input.idpResults.length) {
    parts.push(idpFailed.length ? `front door NOT closed at ${idpFailed.map((i) => i.id).join(", ")}` : `front door closed at ${input.idpResults.map((i) => i.id).join(", ")}`);
  } else if (suspendedNothing) {
    parts.push("suspension closed nothing: no IdP is configured (idp.okta or idp.entra in the catalog), so no session or token was revoked");
  } else if (scope === "person" && !input.error) {
    parts.push("no IdP configured: IdP sessions and tokens were not revoked");
  }
  if (!input.error && !input.frontDoorOnly) {
    if (results.length === 0) parts.push(input.skipped.length ? `nothing left to revoke (${input.skipped.length} already done)` : "nothing to revoke: no accounts recorded for this person");
    else if (failed.length === 0) {
      // An app without an API cannot be read back: its owner's confirmation is attestation, not verification.
      const attested = results.filter((r) => r.state === "REVOKED" && r.mode === "manual").length;
      const verified = results.length - retained.length - attested;
      parts.push(
        [`${verified} app(s) revoked and verified`, attested ? `${attested} removed as confirmed by the owner` : "", retained.length ? `${retained.length} retained by owner decision (${retained.map((r) => r.appId).join(", ")})` : ""]
          .filter(Boolean)
          .join(", "),
      );
    }
    else parts.push(`${failed.length} of ${results.length} app(s) not revoked: ${failed.map((f) => f.appId).join(", ")}`);
  }
  const summary = parts.join("; ");
  const survived = accessSurvivedMs(input.trigger.occurredAt, input.idpResults);
  if (input.subjectId) {
    await deps.store.completeRun({ subjectId, runName: input.runName, status, results, idpResults: input.idpResults, accessSurvivedMs: survived, summary, now: deps.now().toISOString(), settlesSubject: scope === "person" });
  }
  await deps.publish([
    {
      detailType: ok ? DetailType.OffboardingCompleted : DetailType.OffboardingNeedsAttention,
      detail: {
        subjectId,
        runName: input.runName,
        status,
        summary,
        apps: results.map((r) => ({ id: r.appId, state: r.state })),
        idp: input.idpResults.map((i) => ({ id: i.id, state: i.state })),
        accessSurvivedMs: survived,
        trigger: { source: input.trigger.source, sourceEventId: input.trigger.sourceEventId },
      },
    },
  ]);
  metrics.addMetric(ok ? "OffboardingsCompleted" : "OffboardingsNeedingAttention", MetricUnit.Count, 1);
  if (survived !== null) metrics.addMetric("AccessSurvivedDepartureMs", MetricUnit.Milliseconds, survived);
  logger.info("offboarding closed", { subjectId, runName: input.runName, status });
  return { subjectId, runName: input.runName, status, summary, apps: results, idp: input.idpResults, accessSurvivedMs: survived };
}
