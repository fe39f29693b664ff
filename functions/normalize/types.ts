import * as z from "zod";
import type { Catalog } from "../lib/catalog";
import { ValidationError } from "../lib/errors";
import { describeIssue } from "../lib/issues";
import { type CanonicalEvent, IdentityDetail } from "../lib/events";

export interface Ignored {
  sourceEventId?: string;
  eventType?: string;
  reason: string;
}

/** What one vendor payload yields: canonical events to act on, and what was deliberately not acted on. */
export interface Normalized {
  events: CanonicalEvent[];
  ignored: Ignored[];
}

export interface NormalizeContext {
  catalog: Catalog;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A zero date ("0000-00-00", "00/00/0000", with or without a zero time): how BambooHR and MySQL-backed exports say "no date". */
const ZERO_DATE = /^0{2,4}[-/.]0{2}[-/.]0{2,4}([ T]0{2}:0{2}(:0{2}(\.0+)?)?)?$/;

/** Vendors send absent optional values as missing, null, "null", "", or a zero date: all mean "not there". */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "" && v !== "null" && !(typeof v === "string" && ZERO_DATE.test(v.trim()));
}

export const UNSAFE_ID_NUMBER = "is a number too large to be exact (JSON loses its last digits): send ids as strings";

/** Ids arrive as strings or numbers depending on the vendor and the doc revision. */
export function idString(v: unknown, field = "id"): string | undefined {
  // Past 2^53 a JSON number has already lost digits: 9007199254740993 reads as …992, another person's id.
  if (typeof v === "number" && Number.isFinite(v) && !Number.isSafeInteger(v) && Number.isInteger(v)) throw new ValidationError(`${field} ${UNSAFE_ID_NUMBER}`);
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string" && present(v.trim())) return v.trim();
  return undefined;
}

const emailSchema = z.email();
export function emailOrUndefined(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const trimmed = v.trim();
  return emailSchema.safeParse(trimmed).success ? trimmed : undefined;
}

/** Builds a canonical event, turning a schema failure into a one-line reason for the sender. */
export function canonical(detailType: CanonicalEvent["detailType"], detail: unknown, where: string): CanonicalEvent {
  const parsed = IdentityDetail.safeParse(detail);
  if (!parsed.success) throw new ValidationError(describeIssue(parsed.error, where, detail));
  return { detailType, detail: parsed.data };
}
