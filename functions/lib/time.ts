import { ValidationError } from "./errors";

const NUMERIC = /^\d+(\.\d+)?$/;
// "+0000" / "-0530" offsets (BambooHR) are not RFC 3339; add the colon.
const OFFSET_WITHOUT_COLON = /([+-]\d{2})(\d{2})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Vendor timestamps are often not quite RFC 3339: offsets without a colon, a space instead of `T`,
 * no zone at all, epoch seconds or milliseconds (as numbers or strings). Returns ISO 8601 in UTC.
 * A date without time is midnight UTC of that date.
 */
export function toIsoTimestamp(value: unknown, field = "timestamp"): string {
  let date: Date | undefined;
  if (typeof value === "number" || (typeof value === "string" && NUMERIC.test(value.trim()))) {
    const n = Number(value);
    // Epoch seconds until the year 5138; beyond that it must be milliseconds.
    date = new Date(n < 1e11 ? n * 1000 : n);
  } else if (typeof value === "string" && value.trim() !== "") {
    let s = value.trim().replace(" ", "T");
    if (DATE_ONLY.test(s)) s = `${s}T00:00:00Z`;
    s = s.replace(OFFSET_WITHOUT_COLON, "$1:$2");
    if (!/(Z|[+-]\d{2}:\d{2})$/i.test(s)) s = `${s}Z`;
    date = new Date(s);
  }
  if (!date || Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} is not a timestamp`);
  }
  return date.toISOString();
}
