import { createHash } from "node:crypto";
import { ConditionalCheckFailedException, DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { requiredEnv } from "./config";
import { IdentityConflict } from "./errors";
import type { Subject } from "./events";

/**
 * The single table of DESIGN.md. Every write is conditional so that replays, duplicates and races
 * converge: the first arrival wins, a subject departs once, and REVOKED never goes back.
 */

/** PENDING_CONFIRMATION: a departure held by the mass-departure brake until an engineer releases it. */
export const SubjectStatus = z.enum(["ACTIVE", "PENDING_CONFIRMATION", "DEPARTING", "OFFBOARDED", "NEEDS_ATTENTION"]);
export type SubjectStatus = z.infer<typeof SubjectStatus>;

export const AccountState = z.enum(["ACTIVE", "REVOKING", "PENDING_APPROVAL", "REVOKED", "FAILED", "RETAINED"]);
export type AccountState = z.infer<typeof AccountState>;

export const Profile = z.object({
  subjectId: z.string(),
  status: SubjectStatus,
  emails: z.array(z.string()).default([]),
  hrId: z.string().optional(),
  oktaId: z.string().optional(),
  entraId: z.string().optional(),
  createdAt: z.string(),
  departedAt: z.string().optional(),
  currentRun: z.string().optional(),
  lastRun: z.string().optional(),
});
export type Profile = z.infer<typeof Profile>;

export const Account = z.object({
  subjectId: z.string(),
  appId: z.string(),
  appName: z.string().optional(),
  accountName: z.string().optional(),
  firstSeenAt: z.string(),
  via: z.enum(["jit-sso", "assignment", "scim", "manual", "reconcile"]),
  source: z.string(),
  sourceEventId: z.string(),
  state: AccountState,
  scimId: z.string().optional(),
  revokedAt: z.string().optional(),
  verifiedAt: z.string().optional(),
  lastRun: z.string().optional(),
  detail: z.string().optional(),
  /** Time-boxed access: when the account is revoked, and who answers for it until then. */
  expiresAt: z.string().optional(),
  expiryOwner: z.string().optional(),
  privileged: z.boolean().optional(),
});
export type Account = z.infer<typeof Account>;

/** One account's end date, in the EXPIRY partition ordered by date (for the reminders and the revocation). */
export const Expiry = z.object({
  sk: z.string(),
  subjectId: z.string(),
  appId: z.string(),
  expiresAt: z.string(),
  owner: z.string(),
  state: z.enum(["SCHEDULED", "STARTED", "SUPERSEDED"]),
  /** Reminder lead times (days) already sent. */
  reminded: z.array(z.number()).default([]),
});
export type Expiry = z.infer<typeof Expiry>;

export const Trigger = z.object({
  source: z.string(),
  sourceEventId: z.string(),
  occurredAt: z.string(),
  reason: z.string().optional(),
  actor: z.string().optional(),
  /** What the mass-departure brake said of this run (passed as manual, released by an engineer); the reason stays the requester's own. */
  brake: z.string().optional(),
});
export type Trigger = z.infer<typeof Trigger>;

export const AppResult = z.object({
  appId: z.string(),
  mode: z.string(),
  state: AccountState,
  revokedAt: z.string().optional(),
  verifiedAt: z.string().optional(),
  detail: z.string().optional(),
  evidence: z.array(z.record(z.string(), z.unknown())).default([]),
});
export type AppResult = z.infer<typeof AppResult>;

/** One IdP's front-door outcome, as the state machine's Pass states build it. */
export const IdpResult = z.object({
  id: z.enum(["okta", "entra"]),
  action: z.enum(["deactivate", "suspend"]),
  state: z.enum(["REVOKED", "FAILED"]),
  found: z.boolean().optional(),
  note: z.string().optional(),
  disabledAt: z.string().optional(),
  sessionsRevokedAt: z.string().nullable().optional(),
  verifiedAt: z.string().optional(),
  readBack: z.string().optional(),
  evidence: z.object({ disable: z.array(z.record(z.string(), z.unknown())).optional(), verify: z.array(z.record(z.string(), z.unknown())).optional() }).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type IdpResult = z.infer<typeof IdpResult>;

export const HumanTask = z.object({
  taskId: z.string(),
  subjectId: z.string(),
  runName: z.string(),
  appId: z.string(),
  appName: z.string(),
  /** Who is asked in this round: the owner first, then once the backup owner. */
  round: z.enum(["owner", "backup"]),
  assignee: z.string(),
  accountName: z.string().optional(),
  /**
   * The Step Functions task token. Kept (the table is KMS-encrypted) because `revoke confirm <task>`
   * must answer with it; links carry only the task id and an HMAC, never the token.
   */
  token: z.string(),
  state: z.enum(["OPEN", "CONFIRMED", "REJECTED", "ESCALATED", "EXPIRED"]),
  createdAt: z.string(),
  deadline: z.string(),
  remindAt: z.string(),
  remindedAt: z.string().optional(),
  closedAt: z.string().optional(),
  closedBy: z.string().optional(),
  note: z.string().optional(),
});
export type HumanTask = z.infer<typeof HumanTask>;

/** REVOKED: an app-scoped run (mover, expiry, reconciliation) revoked and verified what it was asked to. */
export const RunStatus = z.enum(["RUNNING", "OFFBOARDED", "SUSPENDED", "REVOKED", "NEEDS_ATTENTION", "DRY_RUN", "HELD", "DISCARDED"]);
export const Run = z.object({
  subjectId: z.string(),
  runName: z.string(),
  trigger: Trigger,
  dryRun: z.boolean().default(false),
  status: RunStatus,
  startedAt: z.string(),
  completedAt: z.string().optional(),
  results: z.array(AppResult).default([]),
  idpResults: z.array(IdpResult).default([]),
  /** Departure event to the last IdP session revocation: how long access outlived the departure. */
  accessSurvivedMs: z.number().nullable().optional(),
  summary: z.string().optional(),
});
export type Run = z.infer<typeof Run>;

const IDENTIFIER_ORDER = ["hrId", "oktaId", "entraId", "email"] as const;

function aliasKeys(subject: Subject): string[] {
  const keys: string[] = [];
  for (const kind of IDENTIFIER_ORDER) {
    const value = subject[kind];
    if (value) keys.push(`ALIAS#${kind}#${kind === "email" ? value.toLowerCase() : value}`);
  }
  return keys;
}

/** Deterministic, so two concurrent first sightings of one person converge on one subject. */
export function subjectIdFor(aliasKey: string): string {
  return `sub-${createHash("sha256").update(aliasKey).digest("hex").slice(0, 16)}`;
}

const isConditionFailure = (e: unknown) =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === "ConditionalCheckFailedException";

export class Store {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Finds the subject an event's identifiers belong to, creating and linking as needed. Identifiers
   * that already belong to two different people, or an id of a kind the person already has with
   * another value, are a conflict: never merged (that would revoke one person for another), thrown
   * as IdentityConflict so the event is dead-lettered with the reason for a person to resolve.
   */
  async resolveSubject(subject: Subject, now: string): Promise<Profile> {
    const keys = aliasKeys(subject);
    const owners = new Map<string, string>();
    for (const key of keys) {
      const found = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: key, sk: "ALIAS" } }));
      if (found.Item?.subjectId) owners.set(key, found.Item.subjectId as string);
    }
    const distinct = [...new Set(owners.values())];
    if (distinct.length > 1) throw new IdentityConflict(`identifiers of this event belong to ${distinct.length} different people (${distinct.join(", ")})`);
    // A new person is named after their email when there is one: every source knows it, so an HR
    // event and an Okta event seen at the same moment converge on one subject.
    const subjectId = distinct[0] ?? subjectIdFor(keys.find((k) => k.startsWith("ALIAS#email#")) ?? keys[0]!);
    const existing = distinct[0] ? await this.getProfile(subjectId) : undefined;
    for (const kind of ["hrId", "oktaId", "entraId"] as const) {
      const known = existing?.[kind];
      if (known && subject[kind] && known !== subject[kind]) throw new IdentityConflict(`${subjectId} already has ${kind} ${known}, this event says ${subject[kind]}`);
    }
    for (const key of keys) {
      if (owners.has(key)) continue;
      if (!(await this.putIfAbsent({ pk: key, sk: "ALIAS", subjectId, linkedAt: now }))) {
        const winner = (await this.getItem(key, "ALIAS"))?.subjectId;
        if (winner !== subjectId) throw new IdentityConflict(`an identifier of this event was just linked to ${String(winner)}, not ${subjectId}`);
      }
    }
    const sets = ["#status = if_not_exists(#status, :active)", "createdAt = if_not_exists(createdAt, :now)", "subjectId = :sid"];
    const values: Record<string, unknown> = { ":active": "ACTIVE", ":now": now, ":sid": subjectId };
    for (const kind of ["hrId", "oktaId", "entraId"] as const) {
      if (subject[kind]) {
        sets.push(`${kind} = if_not_exists(${kind}, :${kind})`);
        values[`:${kind}`] = subject[kind];
      }
    }
    let update = `SET ${sets.join(", ")}`;
    if (subject.email) {
      update += " ADD emails :emails";
      values[":emails"] = new Set([subject.email.toLowerCase()]);
    }
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `SUBJECT#${subjectId}`, sk: "PROFILE" },
        UpdateExpression: update,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    if (distinct.length === 0) await this.countActiveOnce(subjectId, "in");
    return toProfile(out.Attributes!);
  }

  /**
   * How many people the ledger knows as active, for the brake's percentage. Each person is counted in
   * once (first sighting) and out once (first departure claimed), whatever replays arrive.
   */
  async countActiveOnce(subjectId: string, direction: "in" | "out"): Promise<void> {
    if (!(await this.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: `COUNTED#${direction}` }))) return;
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: { pk: "STATS", sk: "SUBJECTS" }, UpdateExpression: "ADD active :d", ExpressionAttributeValues: { ":d": direction === "in" ? 1 : -1 } }),
    );
  }

  async activeCount(): Promise<number> {
    return Number((await this.getItem("STATS", "SUBJECTS"))?.active ?? 0);
  }

  /** Looks a subject up by any identifier without creating anything. */
  async findSubject(subject: Subject): Promise<Profile | undefined> {
    for (const key of aliasKeys(subject)) {
      const found = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: key, sk: "ALIAS" } }));
      if (found.Item?.subjectId) return this.getProfile(found.Item.subjectId as string);
    }
    return undefined;
  }

  async getProfile(subjectId: string): Promise<Profile | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `SUBJECT#${subjectId}`, sk: "PROFILE" } }));
    return out.Item ? toProfile(out.Item) : undefined;
  }

  /** First arrival wins; a duplicate or replay is a no-op that reports the account already recorded. */
  async recordArrival(account: Omit<Account, "state">): Promise<{ recorded: boolean; account: Account }> {
    const item: Account = { ...account, state: "ACTIVE" };
    const recorded = await this.putIfAbsent({ pk: `SUBJECT#${account.subjectId}`, sk: `ACCOUNT#${account.appId}`, ...item });
    if (recorded) return { recorded, account: item };
    return { recorded, account: (await this.getAccount(account.subjectId, account.appId))! };
  }

  /**
   * A sign-in after the account was revoked means the app made a new account (JIT again): the record
   * reopens so it is revoked again. Only an arrival that happened after the revocation can reopen it,
   * so a replayed old arrival cannot. Returns whether it reopened.
   */
  async reopenRevokedAccount(subjectId: string, appId: string, arrival: { occurredAt: string; sourceEventId: string; accountName?: string }): Promise<boolean> {
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: `SUBJECT#${subjectId}`, sk: `ACCOUNT#${appId}` },
      UpdateExpression: "SET #state = :active, reopenedAt = :at, sourceEventId = :event, accountName = :name REMOVE scimId, verifiedAt",
      ConditionExpression: "#state = :revoked AND revokedAt < :at",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":active": "ACTIVE", ":revoked": "REVOKED", ":at": arrival.occurredAt, ":event": arrival.sourceEventId, ":name": arrival.accountName ?? null },
    });
  }

  async getAccount(subjectId: string, appId: string): Promise<Account | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `SUBJECT#${subjectId}`, sk: `ACCOUNT#${appId}` } }),
    );
    return out.Item ? Account.parse(out.Item) : undefined;
  }

  async listAccounts(subjectId: string): Promise<Account[]> {
    return (await this.queryPrefix(`SUBJECT#${subjectId}`, "ACCOUNT#")).map((item) => Account.parse(item));
  }

  async listRuns(subjectId: string): Promise<Run[]> {
    return (await this.queryPrefix(`SUBJECT#${subjectId}`, "RUN#")).map((item) => Run.parse(item));
  }

  async getRun(subjectId: string, runName: string): Promise<Run | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}` } }));
    return out.Item ? Run.parse(out.Item) : undefined;
  }

  /**
   * Moves an ACTIVE subject to DEPARTING and records the run that will offboard them, in that order,
   * both conditionally. Returns the run that owns the departure: the new one, or the one a duplicate
   * or an earlier trigger already started (so the caller can start it idempotently).
   */
  async beginDeparture(input: { subjectId: string; runName: string; trigger: Trigger; now: string }): Promise<{ owner: boolean; runName?: string; status: SubjectStatus }> {
    const { subjectId, runName, trigger, now } = input;
    const claimed = await this.conditionalProfileUpdate(subjectId, {
      UpdateExpression: "SET #status = :departing, departedAt = if_not_exists(departedAt, :at), currentRun = :run",
      // NEEDS_ATTENTION may be re-driven by a new departure, a held one starts when released; DEPARTING and OFFBOARDED may not.
      ConditionExpression: "attribute_exists(pk) AND (#status IN (:active, :attention, :held))",
      ExpressionAttributeValues: { ":departing": "DEPARTING", ":active": "ACTIVE", ":attention": "NEEDS_ATTENTION", ":held": "PENDING_CONFIRMATION", ":at": trigger.occurredAt, ":run": runName },
    });
    if (!claimed) {
      const profile = await this.getProfile(subjectId);
      return { owner: false, runName: profile?.currentRun ?? profile?.lastRun, status: profile?.status ?? "ACTIVE" };
    }
    const run: Run = { subjectId, runName, trigger, dryRun: false, status: "RUNNING", startedAt: now, results: [], idpResults: [] };
    await this.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}`, ...run });
    await this.countActiveOnce(subjectId, "out");
    return { owner: true, runName, status: "DEPARTING" };
  }

  /** The brake held this person's departure: PENDING_CONFIRMATION until released or discarded. */
  async holdSubject(subjectId: string): Promise<boolean> {
    return this.conditionalProfileUpdate(subjectId, {
      UpdateExpression: "SET previousStatus = #status, #status = :held",
      ConditionExpression: "#status IN (:active, :attention)",
      ExpressionAttributeValues: { ":held": "PENDING_CONFIRMATION", ":active": "ACTIVE", ":attention": "NEEDS_ATTENTION" },
    });
  }

  /** A held departure was discarded (a bad feed): the person is back where they were. */
  async unholdSubject(subjectId: string): Promise<boolean> {
    return this.conditionalProfileUpdate(subjectId, {
      UpdateExpression: "SET #status = if_not_exists(previousStatus, :active) REMOVE previousStatus",
      ConditionExpression: "#status = :held",
      ExpressionAttributeValues: { ":held": "PENDING_CONFIRMATION", ":active": "ACTIVE" },
    });
  }

  /** Account state only moves forward: nothing overwrites REVOKED or RETAINED. */
  async setAccountState(subjectId: string, appId: string, fields: Partial<Account> & { state: AccountState }): Promise<boolean> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = { "#state": "state" };
    const values: Record<string, unknown> = { ":revoked": "REVOKED", ":retained": "RETAINED" };
    const sets = entries.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      return `#f${i} = :f${i}`;
    });
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: `SUBJECT#${subjectId}`, sk: `ACCOUNT#${appId}` },
      UpdateExpression: `SET ${sets.join(", ")}`,
      ConditionExpression: "attribute_exists(pk) AND NOT (#state IN (:revoked, :retained))",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Claims an account for one run's revocation (REVOKING, by this run), so that two runs holding the
   * same account (a tripwire beside the offboarding) never both deactivate it. Fails once it is REVOKED
   * or RETAINED, and while another run's claim is younger than `staleBefore` (a run that died is taken over).
   */
  async claimAccount(subjectId: string, appId: string, runName: string, now: string, staleBefore: string): Promise<boolean> {
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: `SUBJECT#${subjectId}`, sk: `ACCOUNT#${appId}` },
      UpdateExpression: "SET #state = :revoking, lastRun = :run, revokingSince = :now",
      ConditionExpression:
        "attribute_exists(pk) AND NOT (#state IN (:revoked, :retained)) AND (#state <> :revoking OR lastRun = :run OR attribute_not_exists(revokingSince) OR revokingSince < :stale)",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":revoking": "REVOKING", ":revoked": "REVOKED", ":retained": "RETAINED", ":run": runName, ":now": now, ":stale": staleBefore },
    });
  }

  async completeRun(input: {
    subjectId: string;
    runName: string;
    status: "OFFBOARDED" | "SUSPENDED" | "REVOKED" | "NEEDS_ATTENTION";
    results: AppResult[];
    idpResults: IdpResult[];
    accessSurvivedMs: number | null;
    summary: string;
    now: string;
    /** An app-scoped run (a mover, an expiry) reports on its run only: the person stays as they are. */
    settlesSubject?: boolean;
  }): Promise<void> {
    const { subjectId, runName, status, results, idpResults, accessSurvivedMs, summary, now } = input;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `SUBJECT#${subjectId}`, sk: `RUN#${runName}` },
        UpdateExpression: "SET #status = :status, results = :results, idpResults = :idp, accessSurvivedMs = :survived, summary = :summary, completedAt = :now",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": status, ":results": results, ":idp": idpResults, ":survived": accessSurvivedMs, ":summary": summary, ":now": now },
      }),
    );
    if (input.settlesSubject === false) return;
    // Only the run that owns the departure settles the subject; a stale run cannot overwrite a newer one.
    const settled = await this.conditionalProfileUpdate(subjectId, {
      UpdateExpression: "SET #status = :status, lastRun = :run REMOVE currentRun",
      ConditionExpression: "currentRun = :run",
      ExpressionAttributeValues: { ":status": status, ":run": runName },
    });
    if (settled || status !== "NEEDS_ATTENTION") return;
    // A run that does not own the departure (a tripwire, a suspension) can still leave access open:
    // the person must show NEEDS_ATTENTION too, unless an offboarding is running and will settle them.
    await this.conditionalProfileUpdate(subjectId, {
      UpdateExpression: "SET #status = :status, lastRun = :run",
      ConditionExpression: "attribute_exists(pk) AND #status <> :departing",
      ExpressionAttributeValues: { ":status": status, ":run": runName, ":departing": "DEPARTING" },
    });
  }

  private conditionalProfileUpdate(subjectId: string, update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> }): Promise<boolean> {
    return this.tryUpdate({ TableName: this.tableName, Key: { pk: `SUBJECT#${subjectId}`, sk: "PROFILE" }, ExpressionAttributeNames: { "#status": "status" }, ...update });
  }

  /** An UpdateItem whose condition may not hold: false when it did not, the error for anything else. */
  async tryUpdate(input: UpdateCommandInput): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand(input));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * A departure that takes effect on a later day: kept on the person (for `revoke status`) and in the
   * SCHEDULED partition, ordered by when it is due, for the scheduler to start.
   */
  async scheduleDeparture(input: { subjectId: string; effectiveAt: string; sourceEventId: string; detail: unknown; now: string }): Promise<boolean> {
    const { subjectId, effectiveAt, sourceEventId, detail, now } = input;
    const common = { subjectId, effectiveAt, sourceEventId, detail, state: "SCHEDULED", scheduledAt: now };
    const mySk = `${effectiveAt}#${subjectId}#${sourceEventId}`;
    const fresh = await this.putIfAbsent({ pk: "SCHEDULED", sk: mySk, ...common });
    await this.putIfAbsent({ pk: `SUBJECT#${subjectId}`, sk: `SCHEDULED#${effectiveAt}#${sourceEventId}`, ...common });
    if (fresh) {
      // HR moved the date (a new delivery, with the same event id or a new one): the latest word on a
      // person's departure stands, so every older pending one is superseded, never left to fire early.
      // Only older ones: two deliveries racing each other cannot supersede both.
      const pending = (await this.queryPrefix(`SUBJECT#${subjectId}`, "SCHEDULED#")).filter((i) => i.state === "SCHEDULED");
      for (const item of pending) {
        const sk = `${String(item.effectiveAt)}#${subjectId}#${String(item.sourceEventId)}`;
        const older = String(item.scheduledAt) < now || (String(item.scheduledAt) === now && sk < mySk);
        if (sk === mySk || !older) continue;
        const superseded = await this.tryUpdate({
          TableName: this.tableName,
          Key: { pk: "SCHEDULED", sk },
          UpdateExpression: "SET #state = :superseded, supersededBy = :by, supersededAt = :now",
          ConditionExpression: "#state = :scheduled",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":superseded": "SUPERSEDED", ":scheduled": "SCHEDULED", ":by": sourceEventId, ":now": now },
        });
        if (superseded) await this.putItem({ ...item, state: "SUPERSEDED", supersededBy: sourceEventId, supersededAt: now });
      }
    }
    return fresh;
  }

  /** Scheduled departures due by `nowIso`, oldest first, not yet started. */
  async dueDepartures(nowIso: string): Promise<Array<{ sk: string; subjectId: string; effectiveAt: string; sourceEventId: string; detail: unknown }>> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk <= :bound",
        FilterExpression: "#state = :scheduled",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":pk": "SCHEDULED", ":bound": `${nowIso}#\uffff`, ":scheduled": "SCHEDULED" },
      }),
    );
    return (out.Items ?? []) as Array<{ sk: string; subjectId: string; effectiveAt: string; sourceEventId: string; detail: unknown }>;
  }

  /** Claims a due departure once (SCHEDULED → STARTED), so two scheduler runs cannot both start it. */
  async claimDueDeparture(item: { sk: string; subjectId: string; effectiveAt: string; sourceEventId: string }, now: string): Promise<boolean> {
    const claimed = await this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: "SCHEDULED", sk: item.sk },
      UpdateExpression: "SET #state = :started, startedAt = :now",
      ConditionExpression: "#state = :scheduled",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":started": "STARTED", ":scheduled": "SCHEDULED", ":now": now },
    });
    if (!claimed) return false;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `SUBJECT#${item.subjectId}`, sk: `SCHEDULED#${item.effectiveAt}#${item.sourceEventId}` },
        UpdateExpression: "SET #state = :started, startedAt = :now",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":started": "STARTED", ":now": now },
      }),
    );
    return true;
  }

  /**
   * Withdraws a scheduled departure that has not started. Returns what happened, so that a
   * cancellation arriving after the departure started is reported rather than silently dropped.
   */
  async cancelScheduledDeparture(subjectId: string, cancels: string, now: string): Promise<"cancelled" | "already-started" | "not-found"> {
    const mine = (await this.queryPrefix(`SUBJECT#${subjectId}`, "SCHEDULED#")).filter((i) => i.sourceEventId === cancels);
    if (mine.length === 0) return "not-found";
    let result: "cancelled" | "already-started" = "already-started";
    for (const item of mine) {
      const globalKey = { pk: "SCHEDULED", sk: `${String(item.effectiveAt)}#${subjectId}#${cancels}` };
      const cancelled = await this.tryUpdate({
        TableName: this.tableName,
        Key: globalKey,
        UpdateExpression: "SET #state = :cancelled, cancelledAt = :now",
        ConditionExpression: "#state = :scheduled",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":cancelled": "CANCELLED", ":scheduled": "SCHEDULED", ":now": now },
      });
      if (cancelled) {
        await this.putItem({ ...item, state: "CANCELLED", cancelledAt: now });
        result = "cancelled";
      }
    }
    return result;
  }

  /**
   * Sets (or moves) an account's end date. The old EXPIRY entry is superseded, and every change after
   * the first is kept as evidence (who, when, why, from, to). False when the account is not open.
   */
  async setExpiry(input: { subjectId: string; appId: string; expiresAt: string; owner: string; privileged?: boolean; by: string; reason: string; now: string }): Promise<boolean> {
    const { subjectId, appId, expiresAt, owner, by, reason, now } = input;
    const before = await this.getAccount(subjectId, appId);
    if (!before || ["REVOKED", "RETAINED"].includes(before.state)) return false;
    if (before.expiresAt === expiresAt && before.expiryOwner === owner) return true;
    // The state is not touched: a revocation may be moving it right now.
    const set = await this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: `SUBJECT#${subjectId}`, sk: `ACCOUNT#${appId}` },
      UpdateExpression: "SET expiresAt = :at, expiryOwner = :owner, privileged = :privileged",
      ConditionExpression: "attribute_exists(pk) AND NOT (#state IN (:revoked, :retained))",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":at": expiresAt, ":owner": owner, ":privileged": input.privileged ?? before.privileged ?? false, ":revoked": "REVOKED", ":retained": "RETAINED" },
    });
    if (!set) return false;
    await this.putItem({ pk: "EXPIRY", sk: `${expiresAt}#${subjectId}#${appId}`, subjectId, appId, expiresAt, owner, state: "SCHEDULED", reminded: [] });
    if (before.expiresAt) {
      await this.tryUpdate({
        TableName: this.tableName,
        Key: { pk: "EXPIRY", sk: `${before.expiresAt}#${subjectId}#${appId}` },
        UpdateExpression: "SET #state = :superseded",
        ConditionExpression: "#state = :scheduled",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":superseded": "SUPERSEDED", ":scheduled": "SCHEDULED" },
      });
      await this.putItem({ pk: `SUBJECT#${subjectId}`, sk: `EXPIRY-CHANGE#${appId}#${now}`, appId, from: before.expiresAt, to: expiresAt, by, reason, at: now });
    }
    return true;
  }

  /** Scheduled end dates up to `untilIso`, soonest first. */
  async listExpiries(untilIso: string): Promise<Expiry[]> {
    const out = await this.queryPrefix("EXPIRY", "");
    return out
      .map((i) => Expiry.parse(i))
      .filter((e) => e.state === "SCHEDULED" && e.expiresAt <= untilIso)
      .sort((a, b) => a.sk.localeCompare(b.sk));
  }

  async expiryChanges(subjectId: string): Promise<Array<{ appId: string; from: string; to: string; by: string; reason: string; at: string }>> {
    return (await this.queryPrefix(`SUBJECT#${subjectId}`, "EXPIRY-CHANGE#")) as Array<{ appId: string; from: string; to: string; by: string; reason: string; at: string }>;
  }

  /** Claims a due end date once (SCHEDULED → STARTED). */
  async claimExpiry(sk: string, now: string): Promise<boolean> {
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: "EXPIRY", sk },
      UpdateExpression: "SET #state = :started, startedAt = :now",
      ConditionExpression: "#state = :scheduled",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":started": "STARTED", ":scheduled": "SCHEDULED", ":now": now },
    });
  }

  /**
   * Records that the reminder for `lead` days (and so every longer one) went out; false when another run
   * sent it first. (Conditioned on the lead being absent, not on the whole list: list equality is not
   * something every DynamoDB implementation compares alike.)
   */
  async markReminded(expiry: Expiry, lead: number, leadDays: number[]): Promise<boolean> {
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: "EXPIRY", sk: expiry.sk },
      UpdateExpression: "SET reminded = :after",
      ConditionExpression: "#state = :scheduled AND (attribute_not_exists(reminded) OR NOT contains(reminded, :lead))",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":after": [...new Set([...expiry.reminded, ...leadDays.filter((d) => d >= lead)])].sort((a, b) => a - b), ":lead": lead, ":scheduled": "SCHEDULED" },
    });
  }

  /** A human task, listed in the TASKS partition by its short id. The token answers Step Functions. */
  async putTask(task: HumanTask): Promise<void> {
    await this.putItem({ pk: "TASKS", sk: task.taskId, ...task });
  }

  async getTask(taskId: string): Promise<HumanTask | undefined> {
    const item = await this.getItem("TASKS", taskId);
    return item ? HumanTask.parse(item) : undefined;
  }

  async listTasks(): Promise<HumanTask[]> {
    return (await this.queryPrefix("TASKS", "")).map((i) => HumanTask.parse(i));
  }

  /** Points an OPEN task at the token its run waits on now (the wait was re-entered); false when it is closed. */
  async rebindTask(taskId: string, token: string): Promise<boolean> {
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: "TASKS", sk: taskId },
      UpdateExpression: "SET #token = :token",
      ConditionExpression: "#state = :open",
      ExpressionAttributeNames: { "#token": "token", "#state": "state" },
      ExpressionAttributeValues: { ":token": token, ":open": "OPEN" },
    });
  }

  /** Closes an OPEN task once; false when it was already closed (by someone else, or by a timeout). */
  async closeTask(taskId: string, fields: { state: Exclude<HumanTask["state"], "OPEN">; closedAt: string; closedBy?: string; note?: string }): Promise<boolean> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk: "TASKS", sk: taskId },
      UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :f${i}`).join(", ")}`,
      ConditionExpression: "#state = :open",
      ExpressionAttributeNames: { ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])), "#state": "state" },
      ExpressionAttributeValues: { ...Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])), ":open": "OPEN" },
    });
  }

  /** Adds one to a counter if it is below `limit`; false when it is not. `expiresAt` (epoch seconds) is the item's TTL. */
  /** Adds `count` to a counter only while the sum stays within `limit` (a rate-limit window's calls). */
  async reserveBelow(pk: string, sk: string, limit: number, count: number, expiresAt: number): Promise<boolean> {
    if (count > limit) return false;
    return this.tryUpdate({
      TableName: this.tableName,
      Key: { pk, sk },
      UpdateExpression: "ADD used :count SET expiresAt = :ttl",
      ConditionExpression: "attribute_not_exists(used) OR used <= :most",
      ExpressionAttributeValues: { ":count": count, ":most": limit - count, ":ttl": expiresAt },
    });
  }

  /** Generic conditional put used for items whose first write wins. */
  async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk } }))).Item;
  }

  async putItem(item: Record<string, unknown>): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async queryPrefix(pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :sk)",
          ExpressionAttributeValues: { ":pk": pk, ":sk": skPrefix },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function toProfile(item: Record<string, unknown>): Profile {
  const emails = item.emails instanceof Set ? [...(item.emails as Set<string>)].sort() : item.emails;
  return Profile.parse({ ...item, emails });
}

/**
 * dynalite (the local runtime's DynamoDB, on loopback) requires a request to look signed but never
 * checks the signature, and computing SigV4 was a third of the SDK's CPU per call there: a loopback
 * endpoint gets a well-formed placeholder instead. Anything else is signed as usual.
 */
const placeholderSigner = {
  sign: async <R extends { headers: Record<string, string> }>(request: R): Promise<R> => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    request.headers["x-amz-date"] = date;
    request.headers.authorization = `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned`;
    return request;
  },
};
/**
 * The local runtime's in-process transport to its dynalite (local/dynamo.ts), set before any handler
 * runs; never on AWS. Handlers still go through the whole SDK client: only the socket is skipped.
 */
let localRequestHandler: DynamoDBClientConfig["requestHandler"];
export function useLocalDynamoTransport(requestHandler: DynamoDBClientConfig["requestHandler"]): void {
  localRequestHandler = requestHandler;
  defaultStore = undefined;
}

const isLoopback = (endpoint: string) => /^http:\/\/(127(\.\d{1,3}){3}|localhost|\[::1\])(:\d+)?\/?$/i.test(endpoint);

export function documentClient(): DynamoDBDocumentClient {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  const local = endpoint && isLoopback(endpoint) ? { signer: placeholderSigner, ...(localRequestHandler ? { requestHandler: localRequestHandler } : {}) } : {};
  const client = new DynamoDBClient(endpoint ? { endpoint, ...local } : {});
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

let defaultStore: Store | undefined;
/** The store a Lambda uses: created once per container, table from TABLE_NAME. */
export function storeFromEnv(): Store {
  defaultStore ??= new Store(documentClient(), requiredEnv("TABLE_NAME"));
  return defaultStore;
}

/** The key schema shared by CDK and the local runtime, so both tables are the same. */
export const TABLE_KEYS = { partitionKey: "pk", sortKey: "sk" } as const;
