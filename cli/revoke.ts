import { randomUUID } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { DescribeExecutionCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { Command, Option } from "commander";
import { loadCatalogFile } from "../functions/lib/catalog";
import { ValidationError } from "../functions/lib/errors";
import { describeIssue } from "../functions/lib/issues";
import { answerTask, type TaskAnswer } from "../functions/lib/tasks";
import { hasControlChars, oneLine } from "../functions/lib/text";
import { BUS_SOURCE, DetailType, IdentityDetail, InternalDetailType } from "../functions/lib/events";
import type { OffboardInput, Plan } from "../functions/lib/runs";
import { notificationItems, readGraphNotifications } from "../functions/graph-hook/graph-hook";
import { normalizePayload, type PayloadSource, SOURCES } from "../functions/normalize";
import { reconcileExitCode, reconcileNow, reportMarkdown, storedReport } from "./reconcile";
import { formatStatus, statusOf } from "./status";
import { startAppRevocation } from "../functions/lib/app-revocation";
import { parseUntil, stillEnds } from "../functions/lib/expiry";
import { brakeStatus, discardByHand, formatBrake, holdByHand, releaseByHand } from "./brake";
import { CliError, catalogOf, resolveTarget, type Target } from "./target";

const program = new Command("revoke")
  .description("Departure control for JIT-provisioned access: revoke, verify, and keep evidence")
  .version((JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version, "--version", "print the version")
  .option("--aws", "act on the deployed stack (REVOKE_TABLE_NAME, REVOKE_EVENT_BUS_NAME, REVOKE_STATE_MACHINE_ARN)")
  .option("--data-dir <dir>", "data folder of the local runtime (or REVOKE_DATA_DIR)", process.env.REVOKE_DATA_DIR ?? ".data")
  // Usage errors read like every other error of this command: one line, "revoke: …".
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "revoke: ")) })
  .exitOverride();

/** JSON Lines of many webhook deliveries fit; a runaway input does not take the process down. */
const MAX_NORMALIZE_BYTES = 16 * 1024 * 1024;
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const globals = () => program.opts<{ aws?: boolean; dataDir?: string }>();

function actorName(): string {
  const explicit = process.env.REVOKE_ACTOR;
  if (explicit) return explicit;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

program
  .command("offboard")
  .description("start an offboarding by hand (the actor and reason are recorded)")
  .requiredOption("--subject <email>", "the person's email")
  .requiredOption("--reason <text>", "why (recorded as evidence)")
  .option("--app <id>", "revoke only this app's account (repeat for several); the person stays active", (id: string, ids: string[]) => [...ids, id], [] as string[])
  .option("--dry-run", "print the plan, every account and what would be done to it; change nothing")
  .option("--wait", "wait for the run to finish and print its status")
  .option("--unknown", "offboard someone this pipeline has never seen (closed at the IdPs; any later arrival is revoked at once)")
  .option("--json", "print JSON")
  .action(async (opts: { subject: string; reason: string; app: string[]; dryRun?: boolean; wait?: boolean; unknown?: boolean; json?: boolean }) => {
    const detailCheck = IdentityDetail.safeParse({
      subject: { email: opts.subject },
      occurredAt: new Date().toISOString(),
      source: "manual",
      sourceEventId: `manual:${randomUUID()}`,
      reason: opts.reason,
      actor: actorName(),
    });
    if (!detailCheck.success) throw new CliError(describeIssue(detailCheck.error, "invalid offboarding"), 2);
    if (!opts.reason.trim()) throw new CliError("--reason must not be empty", 2);
    const detail = detailCheck.data;
    const target = await resolveTarget(globals());
    if (opts.app.length) {
      if (opts.dryRun) throw new CliError("--dry-run plans a whole offboarding; without --app it shows every account and what would be done", 2);
      return revokeAppsByHand(target, detail, opts);
    }

    if (opts.dryRun) {
      const runName = `dryrun-${randomUUID().replaceAll("-", "")}`;
      const input: OffboardInput = {
        runName,
        subject: detail.subject,
        dryRun: true,
        trigger: { source: "manual", sourceEventId: detail.sourceEventId, occurredAt: detail.occurredAt, reason: detail.reason, actor: detail.actor },
      };
      const started = await target.sfn.send(new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name: runName, input: JSON.stringify(input) }));
      const plan = await waitForOutput<Plan>(target, started.executionArn!);
      if (opts.json) return void out(JSON.stringify({ subject: opts.subject.toLowerCase(), ...plan }));
      out(`Dry run for ${opts.subject.toLowerCase()} (${plan.subjectId}, ${plan.subjectStatus}): nothing was changed.`);
      const width = Math.max(8, ...plan.apps.map((a) => a.appId.length), ...plan.skipped.map((a) => a.appId.length), ...plan.idps.map((i) => i.id.length));
      for (const idp of plan.idps) out(`  would close  ${idp.id.padEnd(width)} [idp] ${idp.action} ${idp.userRef}, revoke sessions and tokens, then read back`);
      if (plan.apps.length === 0 && plan.skipped.length === 0) out("  no app accounts recorded: an offboarding would revoke nothing in apps");
      for (const app of plan.apps) out(`  would revoke ${app.appId.padEnd(width)} [${app.mode}] ${app.action}`);
      for (const s of plan.skipped) out(`  skip         ${s.appId.padEnd(width)} ${s.reason}`);
      return;
    }

    const known = await target.store.findSubject(detail.subject);
    if (!known && !opts.unknown) {
      // A typo would otherwise record a departed stranger, and the tripwire would revoke whoever later arrives under that name.
      throw new CliError(`no one is known as ${detail.subject.email} (check the spelling); to offboard someone this pipeline has never seen, add --unknown`);
    }
    if (!known) {
      process.stderr.write(`revoke: warning: no one known as ${detail.subject.email}; the run will find no app accounts, and any later arrival is revoked at once\n`);
    } else if (known.status === "OFFBOARDED" || known.status === "DEPARTING") {
      // Said up front: a departure for someone already offboarded starts no new run (replays never re-run).
      process.stderr.write(`revoke: ${detail.subject.email} is already ${known.status} (run ${known.currentRun ?? known.lastRun ?? "?"}); no new run will start\n`);
    }
    const put = await target.eventBridge.send(
      new PutEventsCommand({ Entries: [{ EventBusName: target.busName, Source: BUS_SOURCE, DetailType: DetailType.Departed, Detail: JSON.stringify(detail) }] }),
    );
    if (put.FailedEntryCount) throw new CliError(`the bus refused the departure: ${put.Entries?.[0]?.ErrorMessage ?? "unknown error"}`);
    if (!opts.wait) {
      if (opts.json) return void out(JSON.stringify({ subject: detail.subject.email, sourceEventId: detail.sourceEventId, accepted: true }));
      return void out(`Departure of ${detail.subject.email} sent (${detail.sourceEventId}). Watch it with: npx revoke status ${detail.subject.email}`);
    }
    const report = await waitForSettled(target, detail.subject.email!, detail.sourceEventId);
    out(opts.json ? JSON.stringify(report) : formatStatus(report));
    // Scripts that wait must be able to tell: anything but OFFBOARDED needs a person.
    if (report.status !== "OFFBOARDED") process.exitCode = 1;
  });

/** `revoke offboard --app`: one person's named apps, through the same run as an offboarding (a mover by hand). */
async function revokeAppsByHand(target: Target, detail: IdentityDetail, opts: { app: string[]; wait?: boolean; json?: boolean }) {
  const catalog = catalogOf(target);
  const profile = await target.store.findSubject(detail.subject);
  if (!profile) throw new CliError(`no one known as ${detail.subject.email}`);
  for (const appId of opts.app) {
    if (!catalog.apps.some((a) => a.id === appId)) throw new CliError(`app ${appId} is not in the catalog (${catalog.apps.map((a) => a.id).join(", ")})`, 2);
    const account = await target.store.getAccount(profile.subjectId, appId);
    if (!account) throw new CliError(`${detail.subject.email} has no account recorded in ${appId}`);
  }
  const started = await startAppRevocation(
    { subjectId: profile.subjectId, appIds: opts.app, kind: "manual", trigger: { source: "manual", sourceEventId: detail.sourceEventId, occurredAt: detail.occurredAt, reason: detail.reason, actor: detail.actor } },
    { store: target.store, catalog, now: () => new Date(), startExecution: (name, input) => startExecutionOn(target, name, input), publish: (entries) => publishOn(target, entries) },
  );
  if (!opts.wait) {
    if (opts.json) return void out(JSON.stringify({ subject: detail.subject.email, apps: opts.app, runName: started.runName, action: started.action }));
    return void out(`Revoking ${opts.app.join(", ")} for ${detail.subject.email} (run ${started.runName}). Watch it with: npx revoke status ${detail.subject.email}`);
  }
  const deadline = Date.now() + 300_000;
  let run = await target.store.getRun(profile.subjectId, started.runName);
  while (run?.status === "RUNNING" && Date.now() < deadline) {
    await sleep(300);
    run = await target.store.getRun(profile.subjectId, started.runName);
  }
  if (run?.status === "RUNNING") throw new CliError(`run ${started.runName} did not settle within 300 s; check npx revoke status ${detail.subject.email}`);
  const report = (await statusOf(target, detail.subject.email!))!;
  out(opts.json ? JSON.stringify({ ...report, run: { executionName: started.runName, status: run?.status ?? null, results: run?.results ?? [] } }) : formatStatus(report));
  if (run?.status !== "REVOKED") process.exitCode = 1;
}

async function startExecutionOn(target: Target, name: string, input: OffboardInput): Promise<void> {
  try {
    await target.sfn.send(new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name, input: JSON.stringify(input) }));
  } catch (e) {
    if ((e as Error).name !== "ExecutionAlreadyExists") throw e;
  }
}

async function publishOn(target: Target, entries: Array<{ detailType: string; detail: unknown }>): Promise<void> {
  const put = await target.eventBridge.send(new PutEventsCommand({ Entries: entries.map((e) => ({ EventBusName: target.busName, Source: BUS_SOURCE, DetailType: e.detailType, Detail: JSON.stringify(e.detail) })) }));
  if (put.FailedEntryCount) throw new CliError(`the bus refused ${put.FailedEntryCount} event(s)`);
}

program
  .command("status")
  .description("per-app states, the front door and the last run of one person")
  .argument("<person>", "their email, or their HR, Okta or Entra id")
  .option("--json", "print JSON")
  .action(async (rawPerson: string, opts: { json?: boolean }) => {
    const person = rawPerson.trim();
    if (!person) throw new CliError("name the person: their email, or their HR, Okta or Entra id", 2);
    // Ids are at most 256 characters (emails 254): anything longer is nobody, said plainly.
    if (person.length > 256 || hasControlChars(person)) throw new CliError("no one is known by an id like that (ids are at most 256 printable characters)");
    const target = await resolveTarget(globals());
    const report = await statusOf(target, person);
    if (!report) throw new CliError(`no one known as ${person.includes("@") ? person.toLowerCase() : person}`);
    out(opts.json ? JSON.stringify(report) : formatStatus(report));
  });

program
  .command("normalize")
  .description("print the canonical events a vendor payload yields, one JSON per line")
  .addOption(new Option("--source <kind>", "payload kind (detected from its shape when omitted)").choices([...SOURCES, "graph"]))
  .requiredOption("--file <path>", "payload file (JSON, or JSON Lines with one payload per line); - for stdin")
  .option("--catalog <file>", "app catalog that maps Okta app instances to apps", "config/apps.example.json")
  .action((opts: { source?: PayloadSource | "graph"; file: string; catalog: string }) => {
    let text: string;
    // A payload is at most a few hundred KiB (webhook bodies are capped at 256 KiB): refuse what is not
    // a plain file of sane size before reading it (a device, a FIFO, a disk image).
    if (opts.file !== "-") {
      const info = statSync(opts.file, { throwIfNoEntry: false });
      if (!info) throw new CliError(`cannot read ${opts.file}`, 2);
      if (!info.isFile()) throw new CliError(`${opts.file} is not a regular file`, 2);
      if (info.size > MAX_NORMALIZE_BYTES) throw new CliError(`${opts.file} is ${info.size} bytes; payload files are at most ${MAX_NORMALIZE_BYTES} (split it into JSON Lines files)`, 2);
    }
    try {
      text = readFileSync(opts.file === "-" ? 0 : opts.file, "utf8");
    } catch {
      throw new CliError(`cannot read ${opts.file}`, 2);
    }
    if (text.length > MAX_NORMALIZE_BYTES) throw new CliError(`the input is over ${MAX_NORMALIZE_BYTES} bytes; payload files are at most that`, 2);
    text = text.replace(/^\uFEFF/, "");
    if (!text.trim()) throw new CliError(`${opts.file} is empty`, 2);
    const catalog = loadCatalogFile(opts.catalog);
    let payloads: unknown[];
    try {
      payloads = [JSON.parse(text)];
    } catch {
      try {
        payloads = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
      } catch {
        throw new CliError(`${opts.file} is neither JSON nor JSON Lines`, 2);
      }
    }
    const lines: string[] = [];
    const notes: string[] = [];
    payloads.forEach((payload, i) => {
      try {
        if (opts.source === "graph") {
          // A Graph notification names a user only; the departure comes after the user is looked up.
          const items = notificationItems(payload);
          if (!items) throw new ValidationError("a Graph notification body has a value array (or is Event Grid CloudEvents)");
          const { entries, notAboutUsers } = readGraphNotifications(items, undefined, new Date().toISOString());
          for (const e of entries) lines.push(JSON.stringify({ source: BUS_SOURCE, "detail-type": e.detailType, detail: e.detail }));
          if (notAboutUsers) notes.push(`ignored: ${notAboutUsers} notification(s) not about a user`);
          return;
        }
        const result = normalizePayload(payload, { catalog }, opts.source);
        for (const e of result.events) lines.push(JSON.stringify({ source: BUS_SOURCE, "detail-type": e.detailType, detail: e.detail }));
        for (const ig of result.ignored) notes.push(oneLine(`ignored${ig.eventType ? ` ${ig.eventType}` : ""}: ${ig.reason}`));
      } catch (e) {
        if (e instanceof ValidationError) throw new CliError(`${payloads.length > 1 ? `line ${i + 1}: ` : ""}${e.message}`, 2);
        throw e;
      }
    });
    // Nothing is printed until the whole input normalized: on error, stderr carries the one error line.
    for (const line of lines) out(line);
    for (const note of notes) process.stderr.write(`${note}\n`);
  });

program
  .command("tasks")
  .description("human tasks for apps without SCIM: who must remove whom, where, by when")
  .option("--all", "closed tasks too")
  .option("--json", "print JSON")
  .action(async (opts: { all?: boolean; json?: boolean }) => {
    const target = await resolveTarget(globals());
    const tasks = (await target.store.listTasks()).filter((t) => opts.all || t.state === "OPEN").sort((a, b) => a.deadline.localeCompare(b.deadline));
    const view = tasks.map(({ token: _token, ...t }) => t);
    if (opts.json) return void out(JSON.stringify(view));
    if (view.length === 0) return void out(opts.all ? "no tasks" : "no open tasks");
    for (const t of view) {
      out(`${t.taskId}  ${t.state.padEnd(9)} remove ${t.accountName ?? t.subjectId} from ${t.appName} — ${t.round === "backup" ? "escalated to " : ""}${t.assignee}, due ${t.deadline}${t.closedBy ? `; ${t.state.toLowerCase()} by ${t.closedBy}${t.note ? `: ${t.note}` : ""}` : ""}`);
    }
  });

/** Answers a task once; a task already closed is told plainly (the same answer however often it is asked). */
async function answerFromCli(taskId: string, answer: TaskAnswer) {
  const target = await resolveTarget(globals());
  const actor = actorName();
  const outcome = await answerTask({ store: target.store, send: (c) => target.sfn.send(c as never), now: () => new Date() }, taskId, answer, actor);
  switch (outcome.kind) {
    case "not-found":
      throw new CliError(`no task ${taskId} (see npx revoke tasks)`);
    case "no-longer-waiting":
      throw new CliError(`task ${taskId} is no longer waiting (it timed out, was escalated, or its run was re-driven): see npx revoke tasks`);
    case "already-closed": {
      const t = outcome.task;
      const closed = `task ${taskId} is already ${t.state.toLowerCase()}${t.closedBy ? ` by ${t.closedBy}` : ""}${t.closedAt ? ` at ${t.closedAt}` : ""}`;
      // Confirming a confirmed task asks for what is already true; anything else is not what was asked.
      if (outcome.sameAnswer) return void out(closed);
      throw new CliError(closed);
    }
    case "answered":
      out(`${answer.confirm ? "Confirmed" : "Rejected"} ${taskId}: ${outcome.task.appName} for ${outcome.task.accountName ?? outcome.task.subjectId}, recorded as ${actor}.`);
  }
}

program
  .command("confirm")
  .description("confirm you removed the account a task asks about")
  .argument("<task>", "the task id (t-…)")
  .option("--note <text>", "what you did (recorded as evidence)")
  .action((taskId: string, opts: { note?: string }) => answerFromCli(taskId, { confirm: true, note: opts.note }));

program
  .command("reject")
  .description("keep the account (an explicit, recorded exception, e.g. a legal hold)")
  .argument("<task>", "the task id (t-…)")
  .requiredOption("--reason <text>", "why the account stays")
  .action((taskId: string, opts: { reason: string }) => {
    if (!opts.reason.trim()) throw new CliError("--reason must not be empty", 2);
    return answerFromCli(taskId, { confirm: false, reason: opts.reason });
  });

program
  .command("dead-letters")
  .description("events the local runtime could not process, with the reason (on AWS: the SQS dead-letter and on-failure queues)")
  .option("--json", "print JSON")
  .action(async (opts: { json?: boolean }) => {
    const target = await resolveTarget(globals());
    if (target.kind === "aws") throw new CliError("on AWS, dead letters are in the SQS queues named *-undelivered and *-failed (see the stack's alarms)");
    const letters = (await target.store.queryPrefix("DLQ", "")).map((d) => {
      const event = (() => {
        try {
          return JSON.parse(String(d.event)) as { id?: string; "detail-type"?: string; time?: string };
        } catch {
          return {};
        }
      })();
      return { at: event.time ?? String(d.sk).split("#")[0], rule: String(d.rule), detailType: event["detail-type"] ?? "?", eventId: event.id ?? "?", reason: String(d.reason) };
    });
    if (opts.json) return void out(JSON.stringify(letters));
    if (letters.length === 0) return void out("no dead letters");
    for (const l of letters) out(`${l.at}  ${l.detailType} ${l.eventId} (rule ${l.rule}): ${oneLine(l.reason)}`);
  });

program
  .command("reconcile")
  .description("compare each app's accounts with the HR roster, the IdP and the ledger; print the report (orphan, unknown, unrecorded, revoked-but-active)")
  .option("--app <id>", "only this app (repeat for several)", (id: string, ids: string[]) => [...ids, id], [] as string[])
  .option("--json", "print the report as one JSON object on the last line")
  .option("--show [run]", "print a stored report (the latest, e.g. the daily run's) instead of starting a run")
  .action(async (opts: { app: string[]; json?: boolean; show?: string | true }) => {
    const target = await resolveTarget(globals());
    if (opts.show && opts.app.length) throw new CliError("--show prints a stored report; --app starts a run", 2);
    // With the catalog at hand (always locally; with REVOKE_CATALOG_FILE on AWS); else the run reports it.
    const catalog = opts.app.length && target.catalogFile ? catalogOf(target) : undefined;
    const strangers = opts.app.filter((id) => catalog && !catalog.apps.some((a) => a.id === id));
    // Said before anything runs: a run for an app nobody has would only store a report of nothing.
    if (strangers.length) throw new CliError(`no app ${strangers.join(", ")} in the catalog (${catalog!.apps.map((a) => a.id).join(", ")})`);
    const report = opts.show ? await storedReport(target, opts.show === true ? undefined : opts.show) : await reconcileNow(target, { apps: opts.app, actor: actorName() });
    out(opts.json ? JSON.stringify(report) : reportMarkdown(report));
    process.exitCode = reconcileExitCode(report);
  });

const brake = program.command("brake").description("the mass-departure brake: a wave of departures is held until an engineer decides");
brake
  .command("status")
  .description("engaged or not, the window against its limit, and what is held")
  .option("--json", "print JSON")
  .action(async (opts: { json?: boolean }) => {
    const report = await brakeStatus(await resolveTarget(globals()));
    out(opts.json ? JSON.stringify(report) : formatBrake(report));
  });
brake
  .command("hold")
  .description("engage the brake by hand: every automatic departure and revocation is held from now on")
  .requiredOption("--reason <text>", "why (recorded)")
  .action(async (opts: { reason: string }) => {
    if (!opts.reason.trim()) throw new CliError("--reason must not be empty", 2);
    const engaged = await holdByHand(await resolveTarget(globals()), actorName(), opts.reason);
    out(engaged ? `Brake engaged by ${actorName()}: automatic departures are held until released.` : "The brake was already engaged (its first reason stands); see npx revoke brake status");
  });
brake
  .command("release")
  .description("start what the brake held: all of it (and disengage), or only the requests named")
  .requiredOption("--reason <text>", "why (recorded with your name)")
  .option("--held <id>", "release only this held request (repeat); the brake stays as it is", (id: string, ids: string[]) => [...ids, id], [] as string[])
  .option("--json", "print JSON")
  .action(async (opts: { reason: string; held: string[]; json?: boolean }) => {
    if (!opts.reason.trim()) throw new CliError("--reason must not be empty", 2);
    const result = await releaseByHand(await resolveTarget(globals()), { by: actorName(), reason: opts.reason, heldIds: opts.held });
    if (opts.json) out(JSON.stringify(result));
    else {
      if (!opts.held.length) out(result.wasEngaged ? `Brake released by ${actorName()}.` : "The brake was not engaged (nothing changed about it).");
      out(result.released.length ? `Started ${result.released.length} held request(s): ${result.released.join(", ")}` : "Nothing held was started.");
      if (result.alreadyDecided.length) out(`Already discarded, not started: ${result.alreadyDecided.join(", ")}`);
    }
    if (result.unknown.length) throw new CliError(`no held request ${result.unknown.join(", ")} (see npx revoke brake status)`);
  });
brake
  .command("discard")
  .description("drop held requests (a bad feed): nothing starts and each person is back to their status before")
  .requiredOption("--reason <text>", "why (recorded with your name)")
  .option("--held <id>", "this held request (repeat)", (id: string, ids: string[]) => [...ids, id], [] as string[])
  .option("--all", "every held request")
  .option("--json", "print JSON")
  .action(async (opts: { reason: string; held: string[]; all?: boolean; json?: boolean }) => {
    if (!opts.reason.trim()) throw new CliError("--reason must not be empty", 2);
    if (!opts.all === !opts.held.length) throw new CliError("name what to discard: --all, or --held <id> (repeatable)", 2);
    const result = await discardByHand(await resolveTarget(globals()), { by: actorName(), reason: opts.reason, heldIds: opts.all ? undefined : opts.held });
    if (opts.json) out(JSON.stringify(result));
    else {
      out(result.discarded.length ? `Discarded ${result.discarded.length} held request(s): ${result.discarded.join(", ")}` : "Nothing was discarded.");
      if (result.alreadyDecided.length) out(`Already decided, left as they are: ${result.alreadyDecided.join(", ")}`);
    }
    if (result.unknown.length) throw new CliError(`no held request ${result.unknown.join(", ")} (see npx revoke brake status)`);
  });

program
  .command("extend")
  .description("move the end date of a time-boxed account (recorded: who, when, why, from, to)")
  .argument("<person>", "their email")
  .argument("<app>", "the app id")
  .requiredOption("--until <date>", "the new end: YYYY-MM-DD (end of that day, UTC) or a timestamp")
  .requiredOption("--reason <text>", "why (recorded)")
  .option("--owner <email>", "who answers for the account until then (default: its current owner)")
  .action(async (person: string, appId: string, opts: { until: string; reason: string; owner?: string }) => {
    if (!opts.reason.trim()) throw new CliError("--reason must not be empty", 2);
    const until = parseUntil(opts.until);
    if (!until) throw new CliError(`--until ${opts.until} is not a date (YYYY-MM-DD) or a timestamp`, 2);
    if (until <= new Date().toISOString()) throw new CliError(`--until ${opts.until} is not in the future; to end access now: npx revoke offboard --subject ${person} --app ${appId} --reason <why>`, 2);
    const target = await resolveTarget(globals());
    const catalog = catalogOf(target);
    const profile = await target.store.findSubject({ email: person.toLowerCase() });
    if (!profile) throw new CliError(`no one known as ${person.toLowerCase()}`);
    const account = await target.store.getAccount(profile.subjectId, appId);
    if (!account) throw new CliError(`${person.toLowerCase()} has no account recorded in ${appId}`);
    const owner = opts.owner ?? account.expiryOwner ?? catalog.apps.find((a) => a.id === appId)?.owner;
    if (!owner) throw new CliError(`${appId} names no owner; pass --owner <email>`, 2);
    const set = await target.store.setExpiry({ subjectId: profile.subjectId, appId, expiresAt: until, owner, by: actorName(), reason: opts.reason, now: new Date().toISOString() });
    if (!set) throw new CliError(`the account in ${appId} is ${account.state}: there is nothing to extend`);
    out(`${person.toLowerCase()} in ${appId} now ends ${until} (owner ${owner})${account.expiresAt ? `, was ${account.expiresAt}` : ""}; recorded as ${actorName()}.`);
  });

program
  .command("expiring")
  .description("time-boxed accounts that end soon, soonest first")
  .option("--days <n>", "how far ahead", "7")
  .option("--json", "print JSON")
  .action(async (opts: { days: string; json?: boolean }) => {
    const days = Number(opts.days);
    if (!Number.isInteger(days) || days < 0 || days > 3650) throw new CliError("--days must be a whole number from 0 to 3650", 2);
    const target = await resolveTarget(globals());
    const now = Date.now();
    const listed = await target.store.listExpiries(new Date(now + days * 86_400_000).toISOString());
    const ending = await Promise.all(listed.map(async (e) => stillEnds(await target.store.getAccount(e.subjectId, e.appId), e.expiresAt)));
    const due = listed.filter((_, i) => ending[i]);
    const rows = await Promise.all(
      due.map(async (e) => ({ subject: (await target.store.getProfile(e.subjectId))?.emails[0] ?? e.subjectId, subjectId: e.subjectId, appId: e.appId, expiresAt: e.expiresAt, owner: e.owner, overdue: Date.parse(e.expiresAt) <= now, reminded: e.reminded })),
    );
    if (opts.json) return void out(JSON.stringify(rows));
    if (rows.length === 0) return void out(`nothing ends in the next ${days} day(s)`);
    for (const r of rows) out(`${r.expiresAt}  ${r.appId.padEnd(12)} ${r.subject} (owner ${r.owner})${r.overdue ? " — due: the next expiry sweep revokes it" : ""}`);
  });

const graph = program.command("graph").description("the Microsoft Graph users subscription that tells the pipeline about disabled and deleted users");
graph
  .command("subscribe")
  .description("create the subscription (or renew it) now; it is renewed on a schedule afterwards")
  .action(async () => {
    const target = await resolveTarget(globals());
    const put = await target.eventBridge.send(
      new PutEventsCommand({ Entries: [{ EventBusName: target.busName, Source: BUS_SOURCE, DetailType: InternalDetailType.GraphSubscriptionRequested, Detail: JSON.stringify({ requestedBy: actorName() }) }] }),
    );
    if (put.FailedEntryCount) throw new CliError("the bus refused the request");
    for (let i = 0; i < 40; i++) {
      const sub = await target.store.getItem("GRAPH", "SUBSCRIPTION");
      if (sub?.id) return void out(`Graph subscription ${String(sub.id)}, expires ${String(sub.expirationDateTime)}`);
      await sleep(250);
    }
    throw new CliError("no subscription yet: check that idp.entra and ingress.graph (with notificationUrl) are configured, and the runtime's log");
  });
graph
  .command("status")
  .description("the current subscription and the users/delta sweep position")
  .option("--json", "print JSON")
  .action(async (opts: { json?: boolean }) => {
    const target = await resolveTarget(globals());
    const sub = await target.store.getItem("GRAPH", "SUBSCRIPTION");
    const delta = await target.store.getItem("ENTRA", "DELTA");
    const report = { subscription: sub ? { id: sub.id, expirationDateTime: sub.expirationDateTime } : null, lastSweepAt: delta?.savedAt ?? null };
    out(opts.json ? JSON.stringify(report) : sub ? `Graph subscription ${String(sub.id)}, expires ${String(sub.expirationDateTime)}; last users/delta sweep ${String(delta?.savedAt ?? "never")}` : "no Graph subscription (revoke graph subscribe)");
  });

async function waitForOutput<T>(target: Awaited<ReturnType<typeof resolveTarget>>, executionArn: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const d = await target.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status === "SUCCEEDED") return JSON.parse(d.output ?? "null") as T;
    if (d.status && d.status !== "RUNNING") throw new CliError(`execution ${d.name} ${d.status}: ${d.error ?? ""} ${d.cause ?? ""}`.trim());
    await sleep(250);
  }
  throw new CliError(`execution did not finish within ${timeoutMs / 1000} s`);
}

/**
 * Waits for the run this departure started. A departure that started none (the person was already
 * departing or offboarded) reports the run that owns their departure instead.
 */
async function waitForSettled(target: Awaited<ReturnType<typeof resolveTarget>>, email: string, sourceEventId: string, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  const sentAt = Date.now();
  while (Date.now() < deadline) {
    const profile = await target.store.findSubject({ email });
    if (profile) {
      const runs = await target.store.listRuns(profile.subjectId);
      const mine = runs.find((r) => r.trigger.sourceEventId === sourceEventId);
      const owner = profile.currentRun ? runs.find((r) => r.runName === profile.currentRun) : undefined;
      const watched = mine ?? owner;
      // Delivery is asynchronous: give the bus a moment before concluding this departure started nothing.
      const settled = watched ? watched.status !== "RUNNING" : Date.now() - sentAt > 5_000 && profile.status !== "DEPARTING";
      if (settled) return (await statusOf(target, email))!;
    }
    await sleep(300);
  }
  throw new CliError(`the offboarding of ${email} did not settle within ${timeoutMs / 1000} s; check npx revoke status ${email}`);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error & { exitCode?: number; code?: string };
  if (err.code?.startsWith("commander.")) {
    // commander has already printed its message (help, version or a usage error).
    process.exit(["commander.helpDisplayed", "commander.help", "commander.version"].includes(err.code) && process.argv.length > 2 ? 0 : 2);
  }
  const code = e instanceof CliError ? e.exitCode : err.name === "ConfigError" ? 2 : 1;
  process.stderr.write(`revoke: ${oneLine(err.message)}\n`);
  process.exit(code);
}
