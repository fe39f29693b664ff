import * as z from "zod";
import type { Catalog } from "../lib/catalog";
import { ConfigError, IdentityConflict } from "../lib/errors";
import type { GraphClient } from "../lib/graph";
import { logger } from "../lib/observability";
import type { OktaClient } from "../lib/okta";
import {
  type AccountContext,
  type AppReport,
  appMarkdown,
  capAppReport,
  classifyAccount,
  emptyCounts,
  type Finding,
  findingEventId,
  type IdpView,
  type ListedAccount,
  reconcileKeys,
} from "../lib/reconcile";
import type { Roster, RosterEntry } from "../lib/roster";
import type { ScimUser } from "../lib/scim";
import type { Profile, Store } from "../lib/store";

export const ReconcileAppInput = z.object({
  runId: z.string().min(1),
  app: z.object({ appId: z.string().min(1) }),
});

export interface ReconcileAppDeps {
  store: Store;
  catalog: Catalog;
  /** The app's accounts, paged and rate-limited (ScimClient.listUsers). */
  listAccounts: (appId: string) => AsyncIterable<ScimUser>;
  /** The HR roster, when one is configured. */
  roster: () => Promise<Roster | undefined>;
  /** The configured IdPs' view of a person (none configured: an empty list). */
  idpStatus: (who: { oktaId?: string; entraId?: string; email?: string }) => Promise<IdpView[]>;
  now: () => Date;
}

/** What the Map iteration returns: counts only; the findings are in the table (state payloads stay small). */
export interface ReconcileAppResult {
  appId: string;
  status: "COMPLETE";
  accounts: number;
  activeAccounts: number;
  counts: AppReport["counts"];
  omitted: number;
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
/** Accounts looked up at once, per app. */
const LOOKUP_CONCURRENCY = 8;

function listed(user: ScimUser): ListedAccount {
  return {
    scimId: user.id,
    ...(user.userName ? { userName: user.userName } : {}),
    emails: user.emails ?? [],
    ...(user.externalId ? { externalId: user.externalId } : {}),
    active: user.active ?? null,
    ...(user.created ? { created: user.created } : {}),
  };
}

/**
 * The people and sources an account's identifiers point at. userName, emails and externalId are
 * compared case-insensitively: emails (and an email-shaped userName or externalId) against the ledger's
 * email aliases and the roster's emails; other values against HR, Okta and Entra ids.
 */
class Directory {
  private readonly subjects = new Map<string, Promise<Profile | undefined>>();
  private readonly idp = new Map<string, Promise<IdpView[]>>();

  constructor(
    private readonly deps: ReconcileAppDeps,
    private readonly roster: Roster | undefined,
  ) {}

  private subject(kind: "email" | "hrId" | "oktaId" | "entraId", value: string): Promise<Profile | undefined> {
    const key = `${kind}#${value}`;
    let found = this.subjects.get(key);
    if (!found) {
      found = this.deps.store.findSubject({ [kind]: value });
      this.subjects.set(key, found);
    }
    return found;
  }

  async context(appId: string, account: ListedAccount): Promise<AccountContext> {
    const values = [account.userName, ...account.emails, account.externalId].filter((v): v is string => Boolean(v?.trim())).map((v) => v.trim());
    const emails = [...new Set(values.filter((v) => EMAIL.test(v)).map((v) => v.toLowerCase()))];
    const ids = [...new Set(values.filter((v) => !EMAIL.test(v)))];
    const attributeOf = (value: string) =>
      account.userName?.trim().toLowerCase() === value.toLowerCase() ? "userName" : account.externalId?.trim().toLowerCase() === value.toLowerCase() ? "externalId" : "emails.value";

    const subjects = new Map<string, Profile>();
    let matchedBy: string | undefined;
    const consider = (p: Profile | undefined, how: string) => {
      if (!p) return;
      if (!subjects.has(p.subjectId)) subjects.set(p.subjectId, p);
      matchedBy ??= how;
    };
    for (const email of emails) consider(await this.subject("email", email), `${attributeOf(email)}=${email}`);
    for (const id of ids) {
      for (const kind of ["hrId", "oktaId", "entraId"] as const) consider(await this.subject(kind, id), `${attributeOf(id)}=${id} (${kind})`);
    }

    const [subject] = subjects.size === 1 ? [...subjects.values()] : [];
    let roster: RosterEntry | undefined;
    if (this.roster) {
      const byEmail = [...emails, ...(subject?.emails ?? [])].map((e) => this.roster!.byEmail.get(e.toLowerCase()));
      const byId = [...ids, ...(subject?.hrId ? [subject.hrId] : [])].map((i) => this.roster!.byEmployeeId.get(i.toLowerCase()));
      roster = [...byEmail, ...byId].find(Boolean);
      if (roster && !matchedBy) matchedBy = roster.email && emails.includes(roster.email) ? `${attributeOf(roster.email)}=${roster.email} (HR roster)` : `${roster.employeeId} (HR roster employee id)`;
    }
    const ledger = subject ? await this.deps.store.getAccount(subject.subjectId, appId) : undefined;
    let idp: IdpView[] = [];
    if (account.active !== false && subjects.size <= 1) {
      const who = { oktaId: subject?.oktaId, entraId: subject?.entraId, email: subject?.emails[0] ?? roster?.email ?? emails[0] };
      if (who.oktaId || who.entraId || who.email) {
        const key = JSON.stringify(who);
        let views = this.idp.get(key);
        if (!views) {
          views = this.deps.idpStatus(who);
          this.idp.set(key, views);
        }
        idp = await views;
        if (!matchedBy && idp.some((v) => v.status !== "absent")) matchedBy = `${who.email} (IdP)`;
      }
    }
    return { account, ...(matchedBy ? { matchedBy } : {}), subjects: [...subjects.values()], ...(ledger ? { ledger } : {}), ...(roster ? { roster } : {}), idp, rosterConfigured: Boolean(this.roster) };
  }
}

/**
 * One app: list every account (paged, under the app's rate limit), classify each against the ledger,
 * the roster and the IdP, record the unrecorded ones, and store the app's part of the report.
 * Idempotent: a retried or replayed step recomputes and overwrites its own item, and records with
 * conditional puts.
 */
export async function reconcileApp(rawInput: unknown, deps: ReconcileAppDeps): Promise<ReconcileAppResult> {
  const { runId, app: ref } = ReconcileAppInput.parse(rawInput);
  const app = deps.catalog.apps.find((a) => a.id === ref.appId);
  if (!app?.scim) throw new ConfigError(`app ${ref.appId} has no SCIM settings in the catalog`);
  const roster = await deps.roster();
  const accounts: ListedAccount[] = [];
  const seen = new Set<string>();
  for await (const user of deps.listAccounts(app.id)) {
    // A provider that pages badly can list an account twice: it is one account.
    if (seen.has(user.id)) continue;
    seen.add(user.id);
    accounts.push(listed(user));
  }
  const listedAt = deps.now().toISOString();

  const directory = new Directory(deps, roster);
  const active = accounts.filter((a) => a.active !== false);
  const results: Array<Finding | undefined> = new Array(active.length);
  // A few accounts at a time: the lookups are round trips to the table (and the IdP, under its own rate limit).
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < active.length; i = next++) {
      const context = await directory.context(app.id, active[i]!);
      // Recorded by this very run (the step is being retried after a later failure): still this run's finding.
      if (context.ledger?.state === "ACTIVE" && context.ledger.sourceEventId.startsWith(`reconcile:${runId}:${app.id}:unrecorded:`)) delete context.ledger;
      const finding = classifyAccount(app.id, context);
      if (finding?.kind === "unrecorded") await recordFinding(finding, { runId, appName: app.name, roster: finding.evidence.roster, deps, now: listedAt });
      results[i] = finding;
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, active.length) }, worker));
  const findings = results.filter((f): f is Finding => Boolean(f));

  const counts = emptyCounts();
  for (const f of findings) counts[f.kind]++;
  const report = capAppReport({
    runId,
    appId: app.id,
    appName: app.name,
    status: "COMPLETE",
    listedAt,
    accounts: accounts.length,
    activeAccounts: accounts.filter((a) => a.active !== false).length,
    counts,
    findings,
    omitted: 0,
  });
  await deps.store.putItem({ pk: reconcileKeys.pk(runId), sk: reconcileKeys.app(app.id), ...report, markdown: appMarkdown(report) });
  logger.info("app reconciled", { runId, appId: app.id, accounts: accounts.length, ...counts, omitted: report.omitted });
  return { appId: app.id, status: "COMPLETE", accounts: report.accounts, activeAccounts: report.activeAccounts, counts, omitted: report.omitted };
}

/** An active person's account the ledger lacked: recorded now (via "reconcile"; a replay changes nothing). */
async function recordFinding(finding: Finding, ctx: { runId: string; appName: string; roster?: Finding["evidence"]["roster"]; deps: ReconcileAppDeps; now: string }) {
  const email = finding.person ?? finding.account.emails[0]?.toLowerCase();
  try {
    let subjectId = finding.subjectId;
    if (!subjectId) {
      if (!email) throw new IdentityConflict("no email to know the person by");
      const profile = await ctx.deps.store.resolveSubject({ email, ...(ctx.roster?.employeeId ? { hrId: ctx.roster.employeeId } : {}) }, ctx.now);
      subjectId = profile.subjectId;
    }
    await ctx.deps.store.recordArrival({
      subjectId,
      appId: finding.appId,
      appName: ctx.appName,
      accountName: finding.account.userName ?? email,
      firstSeenAt: finding.account.created ?? ctx.now,
      via: "reconcile",
      source: "reconcile",
      sourceEventId: findingEventId(ctx.runId, finding),
      scimId: finding.account.scimId,
    });
    finding.subjectId = subjectId;
    finding.recorded = true;
  } catch (e) {
    if (!(e instanceof IdentityConflict)) throw e;
    finding.recorded = false;
    finding.note = e.message;
  }
}

/** The IdPs' view of a person, from the configured clients (Okta by id or login, Entra by id or UPN). */
export function idpStatusReader(clients: { okta?: OktaClient; entra?: GraphClient }): ReconcileAppDeps["idpStatus"] {
  return async (who) => {
    const views: IdpView[] = [];
    if (clients.okta && (who.oktaId || who.email)) {
      const user = await clients.okta.getUser(who.oktaId ?? who.email!);
      // Okta's user statuses: ACTIVE, STAGED, PROVISIONED, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, DEPROVISIONED.
      views.push(user ? { idp: "okta", status: user.status, disabled: user.status === "DEPROVISIONED" || user.status === "SUSPENDED" } : { idp: "okta", status: "absent", disabled: false });
    }
    if (clients.entra && (who.entraId || who.email)) {
      const user = await clients.entra.lookupUser(who.entraId ?? who.email!);
      // Not found anywhere is "absent": a UPN that is not the email must not make anyone an orphan.
      views.push(user.unknownToEntra ? { idp: "entra", status: "absent", disabled: false } : { idp: "entra", status: user.state, disabled: user.state !== "enabled" });
    }
    return views;
  };
}
