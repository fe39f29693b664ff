import { ValidationError } from "./errors";

const EPOCH = /^\d{9,13}(\.\d+)?$/;
// ISO 8601 basic format date (20271231): eight digits are a calendar date, never an epoch.
const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// "+0000" / "-0530" offsets (BambooHR) are not RFC 3339; add the colon. A space may precede them.
const OFFSET_WITHOUT_COLON = /\s?([+-]\d{2})(\d{2})$/;
const OFFSET_WITH_SPACE = /\s([+-]\d{2}:\d{2})$/;

function calendarDate(y: string, m: string, d: string, field: string): string {
  const iso = `${y}-${m}-${d}`;
  const date = new Date(`${iso}T00:00:00Z`);
  // Date rolls 2027-02-30 over to March; a date that does not round-trip does not exist.
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) throw new ValidationError(`${field} is not a calendar date`);
  return date.toISOString();
}

/**
 * Vendor timestamps are often not quite RFC 3339: offsets without a colon or after a space, a space
 * instead of `T`, no zone at all, epoch seconds or milliseconds (as numbers or strings), dates in
 * basic format. Returns ISO 8601 in UTC. A date without time is midnight UTC of that date.
 */
export function toIsoTimestamp(value: unknown, field = "timestamp"): string {
  let date: Date | undefined;
  const text = typeof value === "string" ? value.trim() : undefined;
  if (typeof value === "number") {
    // A number is a basic-format date (20271231) or a plausible epoch (seconds or milliseconds since
    // about 1973); anything else (2027, 0, -1) would silently be 1970 and start a departure today.
    if (Number.isInteger(value) && value >= 1e7 && value < 1e8) {
      const digits = String(value);
      return calendarDate(digits.slice(0, 4), digits.slice(4, 6), digits.slice(6, 8), field);
    }
    if (!Number.isFinite(value) || value < 1e8 || value >= 1e14) throw new ValidationError(`${field} is not a timestamp`);
    date = new Date(value < 1e11 ? value * 1000 : value);
  } else if (text !== undefined && EPOCH.test(text)) {
    const n = Number(text);
    // Epoch seconds until the year 5138; beyond that it must be milliseconds.
    date = new Date(n < 1e11 ? n * 1000 : n);
  } else if (text) {
    const basic = text.match(BASIC_DATE) ?? text.match(DATE_ONLY);
    if (basic) return calendarDate(basic[1]!, basic[2]!, basic[3]!, field);
    let s = text.replace(OFFSET_WITH_SPACE, "$1").replace(OFFSET_WITHOUT_COLON, "$1:$2").replace(" ", "T");
    if (!/(Z|[+-]\d{2}:\d{2})$/i.test(s)) s = `${s}Z`;
    const day = s.match(/^(\d{4})-(\d{2})-(\d{2})T/);
    // Only ISO-shaped text is read; anything else Date might "understand" is refused, never guessed.
    if (day) {
      calendarDate(day[1]!, day[2]!, day[3]!, field);
      date = new Date(s);
    }
  }
  if (!date || Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} is not a timestamp`);
  }
  return date.toISOString();
}

const YEAR_MS = 365.25 * 86_400_000;

/**
 * An effective date a termination can really have: from 2000 to five years ahead. HR systems write
 * placeholders for "no date" (0001-01-01, 1900-01-01, SAP's 9999-12-31) and a bad export turns ids into
 * epochs: taken at face value these start an offboarding today or schedule one for ever, so they are
 * refused with the value's field named.
 */
export function plausibleEffectiveDate(iso: string, field: string, now = new Date()): string {
  if (iso < "2000-01-01") throw new ValidationError(`${field} ${iso.slice(0, 10)} is before 2000: a placeholder or an id, not a termination date`);
  if (Date.parse(iso) > now.getTime() + 5 * YEAR_MS) throw new ValidationError(`${field} ${iso.slice(0, 10)} is more than five years ahead: a placeholder ("no end date"), not a termination date`);
  return iso;
}
