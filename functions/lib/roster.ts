import { readFile } from "node:fs/promises";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ConfigError, ValidationError } from "./errors";
import { redactPath, request } from "./http";
import { resolveSecret } from "./secrets";
import { toIsoTimestamp } from "./time";

/**
 * The HR roster: an export of who is employed, as JSON (an array of objects, or an object holding one
 * under `employees`, `workers`, `users`, `people` or `rows`) or CSV with a header row. Column names are
 * read liberally (case, spaces, dashes and underscores ignored), because every HR system spells them
 * its own way:
 *
 * | field | accepted names |
 * |---|---|
 * | employee id | employeeId, employee_id, "Employee #", employeeNumber, workerId, hrId, id |
 * | email | email, workEmail, "Work Email", emailAddress, mail, userPrincipalName, upn |
 * | status | status, employmentStatus, employeeStatus, workerStatus, state; or a boolean `active` |
 * | termination date | terminationDate, termDate, endDate, lastDay, lastWorkingDay, separationDate, departureDate |
 *
 * A row is departed when its status says so (terminated, inactive, separated, departed, left, former,
 * deleted, offboarded, or active = false) or its termination date is today or earlier (UTC day). Rows
 * with neither an id nor an email are ignored (and counted).
 */
export interface RosterEntry {
  employeeId?: string;
  email?: string;
  /** The status as the export spells it. */
  status?: string;
  terminationDate?: string;
  departed: boolean;
  /** Why: the status value, or the termination date that has passed. */
  why: string;
}

export interface Roster {
  source: string;
  entries: RosterEntry[];
  /** Rows without an id or an email. */
  ignoredRows: number;
  byEmail: Map<string, RosterEntry>;
  byEmployeeId: Map<string, RosterEntry>;
}

const ALIASES: Record<"employeeId" | "email" | "status" | "active" | "terminationDate", string[]> = {
  employeeId: ["employeeid", "employeeno", "empid", "empno", "employeenumber", "employeenum", "workerid", "hrid", "personid", "id", "staffid"],
  email: ["email", "workemail", "emailaddress", "mail", "primaryemail", "businessemail", "userprincipalname", "upn", "login"],
  status: ["status", "employmentstatus", "employeestatus", "workerstatus", "state", "employmentstate"],
  active: ["active", "isactive", "enabled"],
  terminationDate: ["terminationdate", "termdate", "terminatedon", "enddate", "lastday", "lastworkingday", "separationdate", "departuredate", "leavedate", "exitdate"],
};
const DEPARTED_STATUS = /^(terminated|termed|inactive|separated|departed|left|former|deleted|offboarded|ex-?employee|resigned|retired|dismissed)$/i;

/** "Employee #" → "employeeno", "Work_Email" → "workemail". */
const keyOf = (header: string) => header.toLowerCase().replace(/#/g, "no").replace(/[^a-z0-9]/g, "");

function pick(row: Record<string, unknown>, field: keyof typeof ALIASES): string | undefined {
  const normalized = new Map<string, unknown>();
  for (const [k, v] of Object.entries(row)) {
    // Keep the first value seen for a normalized name.
    const key = keyOf(k);
    if (!normalized.has(key)) normalized.set(key, v);
  }
  for (const alias of ALIASES[field]) {
    const v = normalized.get(alias);
    if (v === undefined || v === null) continue;
    const text = String(v).trim();
    if (text) return text;
  }
  return undefined;
}

/** Reads one row; undefined when it names nobody. `today` is YYYY-MM-DD (UTC). */
export function rosterEntry(row: Record<string, unknown>, today: string): RosterEntry | undefined {
  const employeeId = pick(row, "employeeId");
  const emailRaw = pick(row, "email");
  const email = emailRaw && /^[^@\s]+@[^@\s]+$/.test(emailRaw) ? emailRaw.toLowerCase() : undefined;
  if (!employeeId && !email) return undefined;
  const status = pick(row, "status");
  const active = pick(row, "active");
  let terminationDate: string | undefined;
  const rawDate = pick(row, "terminationDate");
  if (rawDate) {
    try {
      terminationDate = toIsoTimestamp(rawDate, "termination date").slice(0, 10);
    } catch {
      terminationDate = undefined; // an unreadable date is not a departure; the status may still say so
    }
  }
  let departed = false;
  let why = status ? `status ${status}` : "listed";
  if (status && DEPARTED_STATUS.test(status.trim())) departed = true;
  else if (active && /^(false|no|n|0|inactive)$/i.test(active)) {
    departed = true;
    why = `active ${active}`;
  } else if (terminationDate && terminationDate <= today) {
    departed = true;
    why = `termination date ${terminationDate}`;
  }
  if (departed && terminationDate && !why.includes(terminationDate)) why += `, termination date ${terminationDate}`;
  return { employeeId, email, status, terminationDate, departed, why };
}

/** RFC 4180 CSV: quoted fields with commas, quotes and newlines; CRLF or LF; a BOM is dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const s = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new ValidationError("roster CSV has an unterminated quoted field");
  row.push(field);
  if (row.some((f) => f !== "")) rows.push(row);
  return rows;
}

function rowsOf(text: string, source: string): Record<string, unknown>[] {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (!trimmed) throw new ValidationError(`roster ${source} is empty`);
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (e) {
      throw new ValidationError(`roster ${source} is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(data) && data && typeof data === "object") {
      const o = data as Record<string, unknown>;
      data = ["employees", "workers", "users", "people", "rows", "data", "Report_Entry"].map((k) => o[k]).find(Array.isArray);
    }
    if (!Array.isArray(data)) throw new ValidationError(`roster ${source} is JSON but holds no array of people`);
    return data.filter((r): r is Record<string, unknown> => Boolean(r) && typeof r === "object" && !Array.isArray(r));
  }
  const [header, ...body] = parseCsv(trimmed);
  if (!header || body.length === 0) return [];
  return body.map((cells) => Object.fromEntries(header.map((h, i) => [h.trim(), cells[i] ?? ""])));
}

/** Parses a roster export (JSON or CSV). `now` decides which termination dates have passed. */
export function parseRoster(text: string, source: string, now: Date): Roster {
  const today = now.toISOString().slice(0, 10);
  const entries: RosterEntry[] = [];
  let ignoredRows = 0;
  for (const row of rowsOf(text, source)) {
    const entry = rosterEntry(row, today);
    if (entry) entries.push(entry);
    else ignoredRows++;
  }
  const byEmail = new Map<string, RosterEntry>();
  const byEmployeeId = new Map<string, RosterEntry>();
  for (const e of entries) {
    // A person listed twice (a re-hire, a second contract): an active row wins over a departed one.
    if (e.email && (!byEmail.has(e.email) || byEmail.get(e.email)!.departed)) byEmail.set(e.email, e);
    const id = e.employeeId?.toLowerCase();
    if (id && (!byEmployeeId.has(id) || byEmployeeId.get(id)!.departed)) byEmployeeId.set(id, e);
  }
  return { source, entries, ignoredRows, byEmail, byEmployeeId };
}

let s3: S3Client | undefined;

/** Reads the roster text: `s3://bucket/key` (on AWS), an `https://` HR API, or a local file path. */
export async function readRosterText(location: string, authorizationRef?: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  if (/^https?:\/\//i.test(location)) {
    const url = new URL(location);
    const res = await request({
      baseUrl: url.origin,
      method: "GET",
      path: `${url.pathname}${url.search}`,
      headers: { accept: "application/json, text/csv;q=0.9", ...(authorizationRef ? { authorization: await resolveSecret(authorizationRef) } : {}) },
      timeoutMs: 30_000,
      fetchImpl,
      clock: () => new Date(),
      evidence: [],
    });
    // 429 and 5xx were thrown as Throttled / Transient (retried by the state machine); any other failure is configuration.
    if (res.status !== 200) throw new ConfigError(`roster ${url.origin}${redactPath(url.pathname)} answered ${res.status}`);
    return typeof res.body === "string" ? res.body : JSON.stringify(res.body ?? "");
  }
  const m = location.match(/^s3:\/\/([^/]+)\/(.+)$/);
  if (m) {
    s3 ??= new S3Client({});
    const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    if (!out.Body) throw new ConfigError(`roster ${location} has no content`);
    return out.Body.transformToString("utf8");
  }
  try {
    return await readFile(location, "utf8");
  } catch {
    throw new ConfigError(`roster ${location} cannot be read`);
  }
}

/** The bucket and key of an `s3://` roster location, for the CDK grant; undefined for a local path. */
export function s3Location(location: string | undefined): { bucket: string; key: string } | undefined {
  const m = location?.match(/^s3:\/\/([^/]+)\/(.+)$/);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export async function loadRoster(location: string, now: Date, authorizationRef?: string): Promise<Roster> {
  return parseRoster(await readRosterText(location, authorizationRef), location.replace(/\?.*$/, ""), now);
}

let cache: { location: string; day: string; at: number; roster: Promise<Roster> } | undefined;
/**
 * The roster for a reconciliation run, read once per container for a few minutes: the app steps of
 * one run share it instead of each downloading the export.
 */
export function cachedRoster(location: string, now: Date, authorizationRef?: string, maxAgeMs = 5 * 60_000): Promise<Roster> {
  const day = now.toISOString().slice(0, 10);
  if (!cache || cache.location !== location || cache.day !== day || now.getTime() - cache.at > maxAgeMs) {
    const roster = loadRoster(location, now, authorizationRef);
    cache = { location, day, at: now.getTime(), roster };
    roster.catch(() => {
      if (cache?.roster === roster) cache = undefined; // a failed read is not kept
    });
  }
  return cache.roster;
}
