import { type AppRevocationDeps, startAppRevocation } from "../lib/app-revocation";
import { reminderDue, stillEnds } from "../lib/expiry";
import type { Notifier } from "../lib/notifier";
import { logger } from "../lib/observability";

export interface ExpireDeps extends AppRevocationDeps {
  notify: Notifier;
}

export interface ExpireOutcome {
  started: Array<{ subjectId: string; appId: string; runName: string; action: string }>;
  reminded: Array<{ subjectId: string; appId: string; leadDays: number }>;
}

const DAY_MS = 86_400_000;

/**
 * The scheduled expiry job: accounts whose end date has come are revoked through the app-scoped run
 * (SCIM or a human task, verified, recorded); owners of accounts ending soon are reminded with the
 * command that extends them. Each end date is claimed once and each reminder marked once, so
 * overlapping or repeated runs do nothing twice.
 */
export async function expireAccounts(deps: ExpireDeps): Promise<ExpireOutcome> {
  const now = deps.now();
  const leads = deps.catalog.expiry.reminderDays;
  const horizon = new Date(now.getTime() + Math.max(0, ...leads) * DAY_MS).toISOString();
  const outcome: ExpireOutcome = { started: [], reminded: [] };
  for (const expiry of await deps.store.listExpiries(horizon)) {
    const { subjectId, appId } = expiry;
    if (expiry.expiresAt <= now.toISOString()) {
      if (!(await deps.store.claimExpiry(expiry.sk, now.toISOString()))) continue;
      if (!stillEnds(await deps.store.getAccount(subjectId, appId), expiry.expiresAt)) continue;
      const started = await startAppRevocation(
        {
          subjectId,
          appIds: [appId],
          kind: "expiry",
          trigger: { source: "expiry", sourceEventId: `expiry:${subjectId}:${appId}:${expiry.expiresAt}`, occurredAt: expiry.expiresAt, reason: `access ended on ${expiry.expiresAt} (owner ${expiry.owner})` },
        },
        deps,
      );
      outcome.started.push({ subjectId, appId, runName: started.runName, action: started.action });
      continue;
    }
    const lead = reminderDue(expiry.expiresAt, now, leads, expiry.reminded);
    if (lead === undefined) continue;
    // No "will be revoked" reminder for an account already revoked or kept.
    if (!stillEnds(await deps.store.getAccount(subjectId, appId), expiry.expiresAt)) continue;
    if (!(await deps.store.markReminded(expiry, lead, leads))) continue;
    const profile = await deps.store.getProfile(subjectId);
    const who = profile?.emails[0] ?? subjectId;
    const days = Math.max(1, Math.ceil((Date.parse(expiry.expiresAt) - now.getTime()) / DAY_MS));
    await deps.notify({
      to: expiry.owner,
      subject: `Access to ${appId} ends in ${days} day${days === 1 ? "" : "s"}`,
      text: [
        `${who}'s account in ${appId} ends on ${expiry.expiresAt} and will then be revoked.`,
        `To keep it longer: revoke extend ${who} ${appId} --until <YYYY-MM-DD> --reason "<why>"`,
        `To see everything ending soon: revoke expiring --days ${Math.max(...leads)}`,
      ].join("\n"),
    });
    outcome.reminded.push({ subjectId, appId, leadDays: lead });
  }
  logger.info("expiry sweep", { started: outcome.started.length, reminded: outcome.reminded.length });
  return outcome;
}
