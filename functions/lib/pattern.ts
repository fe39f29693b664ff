/**
 * EventBridge event pattern matching, following AWS's documented semantics: a pattern field lists
 * the values it accepts; an array in the event matches if any element does; nested objects match
 * nested fields; `$or` takes alternatives. Matchers: exact values (string, number, boolean, null),
 * prefix, suffix, anything-but, exists, numeric, equals-ignore-case, wildcard.
 */
type Json = unknown;

export class InvalidPattern extends Error {
  override name = "InvalidPattern";
}

export function matchesPattern(pattern: Record<string, Json>, event: Json): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, Json>, value: Json): boolean {
  for (const [key, spec] of Object.entries(pattern)) {
    if (key === "$or") {
      if (!Array.isArray(spec)) throw new InvalidPattern("$or must be an array");
      if (!spec.some((alt) => matchObject(alt as Record<string, Json>, value))) return false;
      continue;
    }
    const field = isObject(value) ? value[key] : undefined;
    const fieldPresent = isObject(value) && key in value;
    if (Array.isArray(spec)) {
      if (!matchField(spec, field, fieldPresent)) return false;
    } else if (isObject(spec)) {
      if (!fieldPresent || !matchObject(spec, field)) return false;
    } else {
      throw new InvalidPattern(`pattern field ${key} must be an array or an object`);
    }
  }
  return true;
}

function matchField(matchers: Json[], field: Json, fieldPresent: boolean): boolean {
  const values = Array.isArray(field) ? field : [field];
  return matchers.some((m) => {
    if (isObject(m) && "exists" in m) {
      // exists: a leaf value is there (null counts as present in EventBridge; an empty array does not).
      const exists = fieldPresent && !(Array.isArray(field) && field.length === 0) && !isObject(field);
      return m.exists ? exists : !exists;
    }
    if (!fieldPresent) return false;
    if (isObject(m) && "anything-but" in m) {
      if (!fieldPresent) return false;
      return values.every((v) => !matchesAny(m["anything-but"], v));
    }
    return values.some((v) => matchOne(m, v));
  });
}

function matchesAny(spec: Json, value: Json): boolean {
  if (Array.isArray(spec)) return spec.some((s) => matchOne(s, value));
  return matchOne(spec, value);
}

function matchOne(m: Json, v: Json): boolean {
  if (m === null || typeof m !== "object") return m === v;
  const spec = m as Record<string, Json>;
  if ("prefix" in spec) {
    const p = spec.prefix;
    if (isObject(p) && "equals-ignore-case" in p) return typeof v === "string" && v.toLowerCase().startsWith(String(p["equals-ignore-case"]).toLowerCase());
    return typeof v === "string" && typeof p === "string" && v.startsWith(p);
  }
  if ("suffix" in spec) {
    const s = spec.suffix;
    if (isObject(s) && "equals-ignore-case" in s) return typeof v === "string" && v.toLowerCase().endsWith(String(s["equals-ignore-case"]).toLowerCase());
    return typeof v === "string" && typeof s === "string" && v.endsWith(s);
  }
  if ("equals-ignore-case" in spec) return typeof v === "string" && v.toLowerCase() === String(spec["equals-ignore-case"]).toLowerCase();
  if ("wildcard" in spec) return typeof v === "string" && wildcardRegex(String(spec.wildcard)).test(v);
  if ("numeric" in spec) return typeof v === "number" && numericMatch(spec.numeric, v);
  throw new InvalidPattern(`unsupported matcher ${Object.keys(spec).join(",")}`);
}

function numericMatch(spec: Json, v: number): boolean {
  if (!Array.isArray(spec) || spec.length % 2 !== 0) throw new InvalidPattern("numeric takes operator/value pairs");
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const n = spec[i + 1];
    if (typeof n !== "number") throw new InvalidPattern("numeric operands must be numbers");
    const ok = op === "=" ? v === n : op === "<" ? v < n : op === "<=" ? v <= n : op === ">" ? v > n : op === ">=" ? v >= n : undefined;
    if (ok === undefined) throw new InvalidPattern(`numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}

const wildcardCache = new Map<string, RegExp>();
function wildcardRegex(glob: string): RegExp {
  let re = wildcardCache.get(glob);
  if (!re) {
    // `\*` is a literal star; any other `*` matches any run of characters.
    const parts = glob.split(/(\\\*|\*)/).map((p) => (p === "*" ? ".*" : p === "\\*" ? "\\*" : p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")));
    re = new RegExp(`^${parts.join("")}$`, "s");
    wildcardCache.set(glob, re);
  }
  return re;
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
