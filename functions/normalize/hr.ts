import * as z from "zod";
import { ValidationError } from "../lib/errors";
import { describeIssue } from "../lib/issues";
import { DetailType } from "../lib/events";
import { hasControlChars } from "../lib/text";
import { plausibleEffectiveDate, toIsoTimestamp } from "../lib/time";
import { mergeAll } from "./okta";
import { canonical, emailOrUndefined, idString, isRecord, type Normalized, present, UNSAFE_ID_NUMBER } from "./types";

/**
 * Our own generic HR termination event, for any HR system that can send a webhook. Documented in the
 * README. Ids may be numbers or strings; the effective date may be a date or a timestamp.
 */
export const HR_TERMINATION_TYPE = "revoke.hr.termination";

const idLike = z
  .union([z.string(), z.number().refine(Number.isSafeInteger, { message: UNSAFE_ID_NUMBER })])
  .transform((v) => String(v).trim())
  // Refused here, so the reason names the field the sender wrote (eventId), not the one it becomes.
  .pipe(z.string().min(1).refine((s) => !hasControlChars(s), { message: "must not contain control characters (newlines, escapes)" }));

export const HrTermination = z.object({
  type: z.literal(HR_TERMINATION_TYPE),
  eventId: idLike,
  employeeId: idLike,
  email: z.email(),
  effectiveDate: z.union([z.string(), z.number()]),
  reason: z.string().max(1024).optional(),
});
export type HrTermination = z.infer<typeof HrTermination>;

export const HR_CANCELLATION_TYPE = "revoke.hr.termination.cancelled";

export const HrCancellation = z.object({
  type: z.literal(HR_CANCELLATION_TYPE),
  eventId: idLike,
  /** The eventId of the termination being withdrawn. */
  cancelsEventId: idLike,
  employeeId: idLike,
  email: z.email(),
  reason: z.string().max(1024).optional(),
});

export function isHrTermination(body: unknown): boolean {
  return isRecord(body) && (body.type === HR_TERMINATION_TYPE || body.type === HR_CANCELLATION_TYPE);
}

function normalizeHrCancellation(body: unknown): Normalized {
  const parsed = HrCancellation.safeParse(body);
  if (!parsed.success) throw new ValidationError(describeIssue(parsed.error, "HR cancellation", body));
  const c = parsed.data;
  return {
    events: [
      canonical(
        DetailType.DepartureCancelled,
        { subject: { email: c.email, hrId: c.employeeId }, occurredAt: new Date().toISOString(), source: "hr", sourceEventId: `hr:${c.eventId}`, cancels: `hr:${c.cancelsEventId}`, reason: c.reason ?? "termination cancelled" },
        "HR cancellation",
      ),
    ],
    ignored: [],
  };
}

export function normalizeHrTermination(body: unknown): Normalized {
  if (isRecord(body) && body.type === HR_CANCELLATION_TYPE) return normalizeHrCancellation(body);
  const parsed = HrTermination.safeParse(body);
  if (!parsed.success) throw new ValidationError(describeIssue(parsed.error, "HR termination", body));
  const t = parsed.data;
  const effectiveAt = plausibleEffectiveDate(toIsoTimestamp(t.effectiveDate, "effectiveDate"), "effectiveDate");
  return {
    events: [
      canonical(
        DetailType.Departed,
        {
          subject: { email: t.email, hrId: t.employeeId },
          occurredAt: effectiveAt,
          effectiveAt,
          source: "hr",
          sourceEventId: `hr:${t.eventId}`,
          reason: t.reason ?? "HR termination",
        },
        "HR termination",
      ),
    ],
    ignored: [],
  };
}

/** BambooHR event-based webhooks: `{type, timestamp, data: {companyId, employeeId, changedFields}}`. */
export function isBambooEventWebhook(body: unknown): boolean {
  return isRecord(body) && typeof body.type === "string" && body.type.startsWith("employee.") && isRecord(body.data);
}

/** BambooHR field-based (global) webhooks: `{employees: [{action, changedFields, fields, id, timestamp}]}`. */
export function isBambooFieldWebhook(body: unknown): boolean {
  return isRecord(body) && Array.isArray(body.employees);
}

export function normalizeBamboo(body: unknown): Normalized {
  if (isBambooFieldWebhook(body)) {
    const employees = (body as { employees: unknown[] }).employees;
    return mergeAll(employees.map((e, i) => normalizeBambooEmployee(e, `employees[${i}]`)));
  }
  if (isBambooEventWebhook(body)) {
    const b = body as { type: string; data: Record<string, unknown> };
    // Event-based webhooks name the changed fields but carry none of their values, so a termination
    // cannot be told from any other change without calling BambooHR's API (not done here: see README).
    return {
      events: [],
      ignored: [
        {
          eventType: b.type,
          sourceEventId: `bamboohr:${idString(b.data.employeeId) ?? "?"}`,
          reason: "BambooHR event-based webhooks carry no field values; use a field-based webhook with Status and Work Email",
        },
      ],
    };
  }
  throw new ValidationError("not a BambooHR webhook (expected employees[] or {type, data})");
}

// Field keys are display names or admin-chosen aliases, so they are matched loosely.
const STATUS_KEY = /^(employment\s*)?status$/i;
// The whole value, so "Not terminated" or "Termination rescinded" is not a departure.
const TERMINATED_VALUE = /^\s*(terminated|inactive)\s*$/i;
const TERMINATION_DATE_KEY = /terminat.*date|date.*terminat/i;
/**
 * The person's own address only: "Work Email", "Email", workEmail, email_address. Any other field with
 * an address in it names someone else ("Supervisor Email", "Manager Email") or a private one ("Home
 * Email"), and offboarding that person instead would be worse than knowing this one by HR id alone.
 */
const OWN_EMAIL_KEY = /^(work[\s_-]*)?e-?mail([\s_-]*address)?$/i;

function normalizeBambooEmployee(raw: unknown, where: string): Normalized {
  if (!isRecord(raw)) throw new ValidationError(`${where}: must be an object`);
  const hrId = idString(raw.id, `${where}.id`);
  if (!hrId) throw new ValidationError(`${where}: id is missing`);
  const action = typeof raw.action === "string" ? raw.action : "";
  const fields = isRecord(raw.fields) ? raw.fields : {};
  const timestamp = present(raw.timestamp) ? toIsoTimestamp(raw.timestamp, `${where}.timestamp`) : undefined;
  const sourceEventId = `bamboohr:${hrId}:${action || "?"}:${timestamp ?? "?"}`;

  const values = (key: RegExp) => Object.entries(fields).filter(([k, v]) => key.test(k.trim()) && present(v)).map(([, v]) => v);
  // "Status" (Active/Inactive) and "Employment Status" (…/Terminated) may both be there and disagree
  // for a while: either one saying so is the termination, whatever order the fields come in.
  const status = values(STATUS_KEY).find((v) => typeof v === "string" && TERMINATED_VALUE.test(v));
  const deleted = action.toLowerCase() === "deleted";
  const terminated = status !== undefined;
  if (!deleted && !terminated) {
    return { events: [], ignored: [{ sourceEventId, eventType: action, reason: "no termination in this change" }] };
  }
  const terminationDate = values(TERMINATION_DATE_KEY)[0];
  const effectiveAt = present(terminationDate) ? plausibleEffectiveDate(toIsoTimestamp(terminationDate, `${where}.fields termination date`), `${where}.fields termination date`) : timestamp;
  if (!effectiveAt) throw new ValidationError(`${where}: neither a termination date nor a timestamp`);
  // The work email links the person to their accounts (preferred when both it and a bare "Email" are there).
  const emailFields = Object.entries(fields).filter(([k]) => OWN_EMAIL_KEY.test(k.trim()));
  const email = [...emailFields.filter(([k]) => /work/i.test(k)), ...emailFields].map(([, v]) => emailOrUndefined(v)).find(Boolean);
  return {
    events: [
      canonical(
        DetailType.Departed,
        {
          subject: { hrId, email },
          occurredAt: timestamp ?? effectiveAt,
          effectiveAt,
          source: "hr",
          sourceEventId,
          reason: deleted ? "employee record deleted in BambooHR" : `BambooHR status ${String(status)}`,
        },
        where,
      ),
    ],
    ignored: [],
  };
}
