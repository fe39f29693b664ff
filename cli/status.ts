import { listHeld } from "../functions/lib/brake";
import type { Account, Profile, Run } from "../functions/lib/store";
import type { Target } from "./target";

export interface StatusReport {
  subject: string;
  subjectId: string;
  status: Profile["status"];
  departedAt: string | null;
  apps: Array<{ id: string; name: string | null; state: Account["state"]; firstSeenAt: string; via: string; revokedAt: string | null; verifiedAt: string | null; detail: string | null; expiresAt: string | null; expiryOwner: string | null }>;
  lastRun: null | {
    executionName: string;
    status: Run["status"];
    trigger: Run["trigger"];
    startedAt: string;
    completedAt: string | null;
    summary: string | null;
    idp: Array<{ id: string; action: string; state: string; sessionsRevokedAt: string | null; verifiedAt: string | null; detail: string | null }>;
    /** Departure event to the last IdP session revocation. */
    accessSurvivedMs: number | null;
  };
  /** Every run for this person, oldest first (the last one is lastRun): a NEEDS_ATTENTION run stays visible after a later one. */
  runs: Array<{ executionName: string; status: Run["status"]; source: string; startedAt: string; completedAt: string | null; summary: string | null }>;
  /** Requests for this person the mass-departure brake holds until an engineer releases or discards them. */
  held: Array<{ heldId: string; kind: string; source: string; sourceEventId: string; heldAt: string; reason: string }>;
  /** Departures on a later day: SCHEDULED until their day, then STARTED; CANCELLED when HR withdrew them. */
  scheduled: Array<{ effectiveAt: string; source: string; sourceEventId: string; state: string }>;
}

/** Per-app states and the latest run of one person, as `revoke status` shows them. */
export async function statusOf(target: Target, person: string): Promise<StatusReport | undefined> {
  const profile = person.includes("@")
    ? await target.store.findSubject({ email: person.toLowerCase() })
    : ((await target.store.findSubject({ hrId: person })) ?? (await target.store.findSubject({ oktaId: person })) ?? (await target.store.findSubject({ entraId: person })));
  if (!profile) return undefined;
  const [accounts, runs, scheduled, held] = await Promise.all([
    target.store.listAccounts(profile.subjectId),
    target.store.listRuns(profile.subjectId),
    target.store.queryPrefix(`SUBJECT#${profile.subjectId}`, "SCHEDULED#"),
    listHeld(target.store, "HELD"),
  ]);
  const ordered = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const last = ordered.at(-1);
  return {
    subject: profile.emails[0] ?? person,
    subjectId: profile.subjectId,
    status: profile.status,
    departedAt: profile.departedAt ?? null,
    apps: accounts.map((a) => ({
      id: a.appId,
      name: a.appName ?? null,
      state: a.state,
      firstSeenAt: a.firstSeenAt,
      via: a.via,
      revokedAt: a.revokedAt ?? null,
      verifiedAt: a.verifiedAt ?? null,
      detail: a.detail ?? null,
      expiresAt: a.expiresAt ?? null,
      expiryOwner: a.expiryOwner ?? null,
    })),
    lastRun: last
      ? {
          executionName: last.runName,
          status: last.status,
          trigger: last.trigger,
          startedAt: last.startedAt,
          completedAt: last.completedAt ?? null,
          summary: last.summary ?? null,
          idp: last.idpResults.map((i) => ({
            id: i.id,
            action: i.action,
            state: i.state,
            sessionsRevokedAt: i.sessionsRevokedAt ?? null,
            verifiedAt: i.verifiedAt ?? null,
            detail: i.note ?? (i.error ? `${i.error.Error}: ${i.error.Cause ?? ""}` : null),
          })),
          accessSurvivedMs: last.accessSurvivedMs ?? null,
        }
      : null,
    held: held.filter((h) => h.subjectId === profile.subjectId).map((h) => ({ heldId: h.heldId, kind: h.kind, source: h.source, sourceEventId: h.sourceEventId, heldAt: h.heldAt, reason: h.reason })),
    runs: ordered.map((r) => ({ executionName: r.runName, status: r.status, source: r.trigger.source, startedAt: r.startedAt, completedAt: r.completedAt ?? null, summary: r.summary ?? null })),
    scheduled: scheduled.map((s) => ({
      effectiveAt: String(s.effectiveAt),
      source: String((s.detail as { source?: string } | undefined)?.source ?? ""),
      sourceEventId: String(s.sourceEventId ?? ""),
      state: String(s.state ?? "SCHEDULED"),
    })),
  };
}

export function formatStatus(r: StatusReport): string {
  const lines = [`${r.subject} (${r.subjectId}): ${r.status}${r.departedAt ? `, departed ${r.departedAt}` : ""}`];
  if (r.apps.length === 0) lines.push("  no app accounts recorded");
  for (const a of r.apps) {
    lines.push(`  ${a.id.padEnd(12)} ${a.state.padEnd(16)} first seen ${a.firstSeenAt} via ${a.via}${a.revokedAt ? `; revoked ${a.revokedAt}` : ""}${a.verifiedAt ? `; verified ${a.verifiedAt}` : ""}${a.expiresAt && !a.revokedAt ? `; ends ${a.expiresAt} (owner ${a.expiryOwner})` : ""}${a.detail ? ` (${a.detail})` : ""}`);
  }
  if (r.lastRun) {
    lines.push(`  last run ${r.lastRun.executionName}: ${r.lastRun.status}, started ${r.lastRun.startedAt} by ${r.lastRun.trigger.source}${r.lastRun.trigger.actor ? ` (${r.lastRun.trigger.actor})` : ""}${r.lastRun.trigger.brake ? ` [brake: ${r.lastRun.trigger.brake}]` : ""}${r.lastRun.summary ? ` — ${r.lastRun.summary}` : ""}`);
    for (const i of r.lastRun.idp) lines.push(`  idp ${i.id.padEnd(8)} ${i.state.padEnd(16)} ${i.action}${i.sessionsRevokedAt ? `; sessions revoked ${i.sessionsRevokedAt}` : ""}${i.verifiedAt ? `; verified ${i.verifiedAt}` : ""}${i.detail ? ` (${i.detail})` : ""}`);
    if (r.lastRun.accessSurvivedMs !== null) lines.push(`  access survived the departure event by ${r.lastRun.accessSurvivedMs} ms`);
  }
  for (const h of r.held) lines.push(`  held by the mass-departure brake: ${h.kind} from ${h.source} (${h.heldId}, ${h.heldAt}): ${h.reason}; npx revoke brake release --held ${h.heldId} --reason <why>, or discard`);
  // Earlier runs that did not end well stay in view: the last run's success does not undo them.
  for (const run of r.runs.slice(0, -1).filter((x) => ["NEEDS_ATTENTION", "HELD", "RUNNING"].includes(x.status))) {
    lines.push(`  earlier run ${run.executionName}: ${run.status}, started ${run.startedAt} by ${run.source}${run.summary ? ` — ${run.summary}` : ""}`);
  }
  for (const s of r.scheduled.filter((x) => x.state === "SCHEDULED")) lines.push(`  scheduled departure at ${s.effectiveAt} (${s.sourceEventId})`);
  for (const s of r.scheduled.filter((x) => x.state === "CANCELLED")) lines.push(`  cancelled departure that was due ${s.effectiveAt} (${s.sourceEventId})`);
  return lines.join("\n");
}
