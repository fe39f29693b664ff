import * as z from "zod";
import type { RosterEntry } from "./roster";
import type { Account, Profile, Store } from "./store";
import { oneLine } from "./text";

/**
 * Reconciliation: each app's own list of accounts against who is employed (the HR roster), what the
 * IdP says of them, and the arrivals ledger. The classification is pure (below); the functions under
 * functions/reconcile-* gather its inputs and store the report.
 */

export const FINDING_KINDS = ["orphan", "unknown", "unrecorded", "revoked-but-active"] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** What the finding kinds mean, for the report's legend. */
export const FINDING_MEANING: Record<FindingKind, string> = {
  orphan: "an active account of a person who has departed (or is disabled at the IdP)",
  unknown: "an active account that matches no known person",
  unrecorded: "an active account of an active person that the ledger lacked (recorded now)",
  "revoked-but-active": "the ledger says REVOKED and the app says active (a regression)",
};

/** The execution input of `reconcile`. The run id is the execution name. */
export const ReconcileInput = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  /** Only these apps (`revoke reconcile --app`); every app with a list API otherwise. */
  appIds: z.array(z.string()).optional(),
  requestedBy: z.string().default("schedule"),
});
export type ReconcileInput = z.input<typeof ReconcileInput>;

/** One account as the app lists it. */
export interface ListedAccount {
  scimId: string;
  userName?: string;
  emails: string[];
  externalId?: string;
  /** null when the app did not say (never read as inactive). */
  active: boolean | null;
  created?: string;
}

/** One IdP's view of a person. */
export interface IdpView {
  idp: "okta" | "entra";
  /** The IdP's own word: ACTIVE, SUSPENDED, DEPROVISIONED, enabled, disabled, deleted, absent. */
  status: string;
  disabled: boolean;
}

/** Everything known about the person an account belongs to, gathered before classifying. */
export interface AccountContext {
  account: ListedAccount;
  /** Which identifier matched, e.g. `emails.value=alice@example.com`. */
  matchedBy?: string;
  /** The people of the ledger its identifiers point at (more than one is a conflict). */
  subjects: Profile[];
  /** The ledger's record of this person's account in this app. */
  ledger?: Account;
  roster?: RosterEntry;
  idp: IdpView[];
  /** A roster was configured for this run (absence from it is then worth saying). */
  rosterConfigured: boolean;
}

export interface Finding {
  kind: FindingKind;
  appId: string;
  account: ListedAccount;
  subjectId?: string;
  /** The person's email as the ledger or roster knows it. */
  person?: string;
  /** One line: why this is a finding. */
  reason: string;
  evidence: {
    matchedBy?: string;
    ledger?: { subjectId: string; status: string; departedAt?: string; account?: { state: string; revokedAt?: string; verifiedAt?: string; lastRun?: string } };
    roster?: { employeeId?: string; email?: string; status?: string; terminationDate?: string; departed: boolean };
    idp?: IdpView[];
    conflict?: string[];
  };
  /** For `unrecorded`: the ledger record was written by this run (false: it could not be, see note). */
  recorded?: boolean;
  note?: string;
  /** When remediation ran: what it did. */
  remediation?: { action: "started" | "held" | "duplicate" | "skipped" | "failed"; runName?: string; note?: string };
}

/** Departed in the ledger: an offboarding started or finished (NEEDS_ATTENTION counts once departed). */
export function departedInLedger(p: Profile): boolean {
  return p.status === "DEPARTING" || p.status === "OFFBOARDED" || (p.status === "NEEDS_ATTENTION" && Boolean(p.departedAt));
}

/**
 * Classifies one listed account. Inactive accounts are never findings. The order matters: a REVOKED
 * record with an active account is a regression whoever the person is; then departure (any source
 * saying so is enough, and each source's word goes into the evidence); then a person everyone thinks
 * active whose account the ledger lacks.
 */
export function classifyAccount(appId: string, ctx: AccountContext): Finding | undefined {
  const { account } = ctx;
  if (account.active === false) return undefined;
  const subject = ctx.subjects.length === 1 ? ctx.subjects[0] : undefined;
  const evidence: Finding["evidence"] = {
    ...(ctx.matchedBy ? { matchedBy: ctx.matchedBy } : {}),
    ...(subject
      ? {
          ledger: {
            subjectId: subject.subjectId,
            status: subject.status,
            ...(subject.departedAt ? { departedAt: subject.departedAt } : {}),
            ...(ctx.ledger ? { account: { state: ctx.ledger.state, revokedAt: ctx.ledger.revokedAt, verifiedAt: ctx.ledger.verifiedAt, lastRun: ctx.ledger.lastRun } } : {}),
          },
        }
      : {}),
    ...(ctx.roster ? { roster: { employeeId: ctx.roster.employeeId, email: ctx.roster.email, status: ctx.roster.status, terminationDate: ctx.roster.terminationDate, departed: ctx.roster.departed } } : {}),
    ...(ctx.idp.length ? { idp: ctx.idp } : {}),
  };
  const idpKnows = ctx.idp.some((v) => v.status !== "absent");
  // Who the account belongs to, as a known source names them (an unknown account has no one).
  const person = subject?.emails[0] ?? ctx.roster?.email ?? (idpKnows ? account.emails[0]?.toLowerCase() ?? (account.userName?.includes("@") ? account.userName.toLowerCase() : undefined) : undefined);
  const base = { appId, account, ...(subject ? { subjectId: subject.subjectId } : {}), ...(person ? { person } : {}), evidence };
  const unknownNote = account.active === null ? " (the app does not say whether it is active)" : "";

  if (ctx.subjects.length > 1) {
    evidence.conflict = ctx.subjects.map((s) => s.subjectId);
    return { ...base, kind: "unknown", reason: `its identifiers match ${ctx.subjects.length} different people in the ledger (${evidence.conflict.join(", ")}); a person must decide${unknownNote}` };
  }
  if (!subject && !ctx.roster && !idpKnows) {
    const sources = ["the ledger", ...(ctx.rosterConfigured ? ["the HR roster"] : []), ...(ctx.idp.length ? ["the IdP"] : [])];
    return { ...base, kind: "unknown", reason: `no one in ${sources.join(", ").replace(/, ([^,]*)$/, " or $1")} matches userName, emails or externalId${unknownNote}` };
  }
  if (ctx.ledger?.state === "REVOKED") {
    return { ...base, kind: "revoked-but-active", reason: `the ledger says REVOKED${ctx.ledger.revokedAt ? ` at ${ctx.ledger.revokedAt}` : ""} (run ${ctx.ledger.lastRun ?? "?"}) and the app lists the account as active${unknownNote}` };
  }
  const departures: string[] = [];
  if (subject && departedInLedger(subject)) departures.push(`the ledger says ${subject.status}${subject.departedAt ? ` since ${subject.departedAt}` : ""}`);
  if (ctx.roster?.departed) departures.push(`the HR roster says ${ctx.roster.why}`);
  for (const v of ctx.idp) if (v.disabled) departures.push(`${v.idp === "okta" ? "Okta" : "Entra ID"} says ${v.status}`);
  if (departures.length) {
    if (ctx.ledger?.state === "RETAINED") return undefined; // an owner kept it on purpose: an explicit, recorded exception
    return { ...base, kind: "orphan", reason: `${departures.join("; ")}; the account is active${unknownNote}` };
  }
  if (!ctx.ledger) {
    const knownBy = [subject ? "the ledger" : "", ctx.roster ? "the HR roster" : "", idpKnows ? "the IdP" : ""].filter(Boolean).join(", ");
    return { ...base, kind: "unrecorded", reason: `an active person (known to ${knownBy}) whose account here the ledger lacked${unknownNote}` };
  }
  return undefined;
}

export interface AppReport {
  runId: string;
  appId: string;
  appName: string;
  status: "COMPLETE" | "FAILED";
  listedAt?: string;
  accounts: number;
  activeAccounts: number;
  counts: Record<FindingKind, number>;
  findings: Finding[];
  /** Findings left out of the stored report to keep it under DynamoDB's 400 KB item limit (counted above). */
  omitted: number;
  error?: string;
}

export interface ReconcileReport {
  runId: string;
  requestedBy: string;
  startedAt: string;
  completedAt?: string;
  roster?: { source: string; people: number; departed: number; ignoredRows: number };
  apps: AppReport[];
  skipped: Array<{ appId: string; reason: string }>;
  totals: Record<FindingKind, number>;
  remediation: { enabled: boolean; started: number; held: number; duplicate: number; skipped: number; failed: number };
  /** Present while the run has not written its report yet (only `revoke reconcile --show` can see that). */
  running?: true;
}

export const emptyCounts = (): Record<FindingKind, number> => ({ orphan: 0, unknown: 0, unrecorded: 0, "revoked-but-active": 0 });

/** Room for one app's report in one item, well under 400 KB (keys, attribute names and the Markdown too). */
export const APP_REPORT_MAX_BYTES = 300_000;

/**
 * Keeps an app's report storable: findings are kept in order of severity (revoked-but-active, orphan,
 * unknown, unrecorded) until the item would pass the budget; the rest are counted in `omitted`.
 */
export function capAppReport(report: AppReport, maxBytes = APP_REPORT_MAX_BYTES): AppReport {
  const order: FindingKind[] = ["revoked-but-active", "orphan", "unknown", "unrecorded"];
  const sorted = [...report.findings].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  // Markdown is stored beside the JSON, so a finding costs roughly its JSON twice over.
  let size = Buffer.byteLength(JSON.stringify({ ...report, findings: [] })) * 2;
  const kept: Finding[] = [];
  for (const f of sorted) {
    const cost = Buffer.byteLength(JSON.stringify(f)) + 300;
    if (size + cost > maxBytes) break;
    size += cost;
    kept.push(f);
  }
  return { ...report, findings: kept, omitted: report.omitted + (sorted.length - kept.length) };
}

const cell = (text: string | undefined) => oneLine(text ?? "").replace(/\|/g, "\\|").slice(0, 300);

/** One app's table. */
export function appMarkdown(app: AppReport): string {
  const lines = [`### ${cell(app.appName)} (\`${app.appId}\`)`, ""];
  if (app.status === "FAILED") {
    lines.push(`Could not be reconciled: ${cell(app.error)}`);
    return lines.join("\n");
  }
  const counts = FINDING_KINDS.map((k) => `${app.counts[k]} ${k}`).join(", ");
  lines.push(`${app.accounts} accounts listed (${app.activeAccounts} active) at ${app.listedAt ?? "?"}: ${counts}.`, "");
  if (app.findings.length === 0) {
    lines.push(app.omitted ? "" : "No findings.");
  } else {
    lines.push("| finding | account | person | why | action |", "|---|---|---|---|---|");
    for (const f of app.findings) {
      const account = `${f.account.userName ?? f.account.emails[0] ?? "?"} (${f.account.scimId})`;
      const action = f.remediation
        ? `${f.remediation.action}${f.remediation.runName ? ` ${f.remediation.runName}` : ""}${f.remediation.note ? `: ${f.remediation.note}` : ""}`
        : f.kind === "unrecorded"
          ? f.recorded
            ? "recorded"
            : `not recorded${f.note ? `: ${f.note}` : ""}`
          : "";
      lines.push(`| ${f.kind} | ${cell(account)} | ${cell(f.subjectId ? `${f.person ?? ""} (${f.subjectId})` : f.person)} | ${cell(f.reason)} | ${cell(action)} |`);
    }
  }
  if (app.omitted) lines.push("", `${app.omitted} more finding(s) not stored (the report is capped per app to fit one DynamoDB item); they are counted above.`);
  return lines.join("\n");
}

/** The whole report as Markdown: a summary, then a table per app. */
export function reportMarkdown(report: ReconcileReport): string {
  const lines = [`## Reconciliation ${report.runId}${report.running ? " (still running: apps not listed yet are missing)" : ""}`, ""];
  lines.push(`Started ${report.startedAt}${report.completedAt ? `, completed ${report.completedAt}` : ""} (requested by ${cell(report.requestedBy)}).`);
  lines.push(
    report.roster
      ? `HR roster ${cell(report.roster.source)}: ${report.roster.people} people, ${report.roster.departed} departed${report.roster.ignoredRows ? `, ${report.roster.ignoredRows} rows without an id or email ignored` : ""}.`
      : "No HR roster configured: the ledger and the IdP decide who is employed.",
  );
  lines.push("", `Totals: ${FINDING_KINDS.map((k) => `${report.totals[k]} ${k}`).join(", ")}.`);
  const r = report.remediation;
  lines.push(
    r.enabled
      ? `Remediation: ${r.started} revocation(s) started, ${r.held} held by the brake, ${r.duplicate} already started, ${r.skipped} skipped, ${r.failed} failed.`
      : "Remediation is off (`reconcile.remediate` in the catalog): nothing was revoked.",
  );
  for (const s of report.skipped) lines.push(`Not reconciled: \`${s.appId}\`, ${cell(s.reason)}.`);
  for (const app of report.apps) lines.push("", appMarkdown(app));
  lines.push("", ...FINDING_KINDS.map((k) => `- **${k}**: ${FINDING_MEANING[k]}`));
  return lines.join("\n");
}

/** Table keys of a reconciliation run: a summary item and one item per app. */
export const reconcileKeys = {
  pk: (runId: string) => `RECONCILE#${runId}`,
  summary: "SUMMARY",
  app: (appId: string) => `APP#${appId}`,
  /** Every run, by start time: `revoke reconcile --show` finds the latest here. */
  index: "RECONCILE",
  indexEntry: (startedAt: string, runId: string) => `${startedAt}#${runId}`,
};

/** The most recent run's id (the daily one or one started by hand), if any. */
export async function latestRunId(store: Pick<Store, "queryPrefix">): Promise<string | undefined> {
  const runs = await store.queryPrefix(reconcileKeys.index, "");
  return runs.length ? String(runs[runs.length - 1]!.runId) : undefined;
}

/** A stable id for one finding in one run: replays of the run start nothing twice. */
export function findingEventId(runId: string, finding: Pick<Finding, "appId" | "kind" | "account">): string {
  return `reconcile:${runId}:${finding.appId}:${finding.kind}:${finding.account.scimId}`;
}

/** The summary item of a run (the per-app parts are items of their own). */
export interface ReconcileSummary extends Omit<ReconcileReport, "apps"> {
  status: "RUNNING" | "COMPLETE";
  appIds: string[];
  remediate: boolean;
}

/** A run's report as stored: the summary and each app's part, apps in the order planned. */
export async function loadReport(store: Pick<Store, "queryPrefix">, runId: string): Promise<ReconcileReport | undefined> {
  const items = await store.queryPrefix(reconcileKeys.pk(runId), "");
  const summary = items.find((i) => i.sk === reconcileKeys.summary) as unknown as ReconcileSummary | undefined;
  if (!summary) return undefined;
  const apps = items.filter((i) => String(i.sk).startsWith("APP#")).map(({ pk: _pk, sk: _sk, markdown: _md, ...rest }) => rest as unknown as AppReport);
  const order = (id: string) => (summary.appIds.indexOf(id) + 1 || Number.MAX_SAFE_INTEGER);
  apps.sort((a, b) => order(a.appId) - order(b.appId));
  const { status, appIds: _appIds, remediate: _remediate, pk: _pk, sk: _sk, ...rest } = summary as ReconcileSummary & { pk?: string; sk?: string };
  return { ...rest, ...(status === "RUNNING" ? { running: true } : {}), apps };
}

/** Sets fields on a run's item (read, merge, write: each item of a run has one writer at a time). */
export async function mergeReconcileItem(store: Pick<Store, "getItem" | "putItem">, runId: string, sk: string, fields: Record<string, unknown>): Promise<void> {
  const pk = reconcileKeys.pk(runId);
  const current = (await store.getItem(pk, sk)) ?? { pk, sk };
  await store.putItem({ ...current, ...fields });
}
