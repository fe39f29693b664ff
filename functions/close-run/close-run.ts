import { z } from "zod";
import { DetailType } from "../lib/events";
import { logger } from "../lib/observability";
import { AppResult, type Store, Trigger } from "../lib/store";
import { causeMessage } from "../record-app-outcome/record-app-outcome";

const CloseInput = z.object({
  subjectId: z.string().optional(),
  runName: z.string(),
  trigger: Trigger,
  dryRun: z.boolean().default(false),
  results: z.array(AppResult).optional(),
  skipped: z.array(z.object({ appId: z.string(), state: z.string(), reason: z.string() })).default([]),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

export const RunSummary = z.object({
  subjectId: z.string(),
  runName: z.string(),
  status: z.enum(["OFFBOARDED", "NEEDS_ATTENTION"]),
  summary: z.string(),
  apps: z.array(AppResult),
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
export async function closeRun(rawInput: unknown, deps: CloseDeps): Promise<RunSummary> {
  const input = CloseInput.parse(rawInput);
  const subjectId = input.subjectId ?? "unknown";
  const results = input.results ?? [];
  const failed = results.filter((r) => r.state !== "REVOKED");
  const ok = !input.error && failed.length === 0;
  const status = ok ? "OFFBOARDED" : "NEEDS_ATTENTION";
  const summary = input.error
    ? `run failed before finishing: ${input.error.Error}: ${causeMessage(input.error.Cause) ?? "no detail"}`
    : results.length === 0
      ? input.skipped.length
        ? `nothing left to revoke (${input.skipped.length} already done)`
        : "nothing to revoke: no accounts recorded for this person"
      : ok
        ? `${results.length} app(s) revoked and verified`
        : `${failed.length} of ${results.length} app(s) not revoked: ${failed.map((f) => f.appId).join(", ")}`;
  if (input.subjectId) {
    await deps.store.completeRun({ subjectId, runName: input.runName, status, results, summary, now: deps.now().toISOString() });
  }
  await deps.publish([
    {
      detailType: ok ? DetailType.OffboardingCompleted : DetailType.OffboardingNeedsAttention,
      detail: { subjectId, runName: input.runName, status, summary, apps: results.map((r) => ({ id: r.appId, state: r.state })), trigger: { source: input.trigger.source, sourceEventId: input.trigger.sourceEventId } },
    },
  ]);
  logger.info("offboarding closed", { subjectId, runName: input.runName, status });
  return { subjectId, runName: input.runName, status, summary, apps: results };
}
