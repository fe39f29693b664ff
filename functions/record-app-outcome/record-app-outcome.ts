import * as z from "zod";
import { AppStepInput } from "../lib/runs";
import type { AppResult, Store } from "../lib/store";

const Evidence = z.array(z.record(z.string(), z.unknown())).default([]);
const OutcomeInput = AppStepInput.extend({
  revoke: z.object({ scimId: z.string().nullable(), found: z.boolean(), revokedAt: z.string(), evidence: Evidence }).optional(),
  verify: z.object({ verifiedAt: z.string(), readBack: z.string(), evidence: Evidence }).optional(),
  /** What `revoke confirm` answered a manual app's task with. */
  manual: z.object({ confirmedBy: z.string(), note: z.string().optional(), confirmedAt: z.string(), taskId: z.string().optional() }).optional(),
  /** What a Catch put at `$.error`: `{Error, Cause}`. On AWS, Cause is the Lambda's JSON error document. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

/** The readable part of a Catch's Cause, without the stack trace Lambda adds. */
export function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === "string") return parsed.errorMessage;
  } catch {
    // Not JSON: the local runtime passes the message as is.
  }
  return cause.slice(0, 500);
}

/**
 * Records one app's outcome on its ACCOUNT item (state only moves forward) and returns it for the
 * run's evidence. REVOKED requires a verified read-back; everything else is FAILED with the reason.
 */
export async function recordAppOutcome(rawInput: unknown, deps: { store: Store }): Promise<AppResult> {
  const { subjectId, runName, app, revoke, verify, error, manual } = OutcomeInput.parse(rawInput);
  const evidence = [...(revoke?.evidence ?? []), ...(verify?.evidence ?? [])];
  let result: AppResult;
  if (revoke && verify && !error) {
    const detail = revoke.found ? `deactivated; read-back ${verify.readBack}` : `no account found in the app; read-back ${verify.readBack}`;
    result = { appId: app.appId, mode: app.mode, state: "REVOKED", revokedAt: revoke.revokedAt, verifiedAt: verify.verifiedAt, detail, evidence };
  } else if (manual && !error) {
    // A manual app cannot be read back: the owner's confirmation, who and when, is the evidence.
    const detail = `removed by hand; confirmed by ${manual.confirmedBy}${manual.note ? `: ${manual.note}` : ""} (attested, not read back)`;
    result = { appId: app.appId, mode: app.mode, state: "REVOKED", revokedAt: manual.confirmedAt, verifiedAt: manual.confirmedAt, detail, evidence: [{ ...manual }] };
  } else if (error?.Error === "Rejected") {
    // An explicit, visible exception: the account stays, for the reason the owner gave.
    result = { appId: app.appId, mode: app.mode, state: "RETAINED", detail: `kept by the owner's decision: ${causeMessage(error.Cause) ?? "no reason"}`, evidence };
  } else if (error && (error.Error === "States.Timeout" || error.Error === "States.HeartbeatTimeout") && app.mode === "manual") {
    result = { appId: app.appId, mode: app.mode, state: "FAILED", detail: "no one confirmed the removal in time (owner, then backup owner)", evidence };
  } else if (error) {
    result = { appId: app.appId, mode: app.mode, state: "FAILED", detail: `${error.Error}: ${causeMessage(error.Cause) ?? "no detail"}`, evidence };
  } else {
    result = { appId: app.appId, mode: app.mode, state: "FAILED", detail: app.mode === "unmapped" ? "app is not in the catalog: no way to revoke or verify" : "no revocation was recorded for this app", evidence };
  }
  await deps.store.setAccountState(subjectId, app.appId, {
    state: result.state,
    lastRun: runName,
    revokedAt: result.revokedAt,
    verifiedAt: result.verifiedAt,
    detail: result.detail,
    ...(revoke?.scimId ? { scimId: revoke.scimId } : {}),
  });
  return result;
}
