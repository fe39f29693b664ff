import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors";
import { CanonicalEvent } from "../../../functions/lib/events";
import { normalizePayload } from "../../../functions/normalize";
import { fixtureJson, oktaSystemLogEvents, testCatalog } from "../../helpers/fixtures";

const ctx = { catalog: testCatalog };

/** Normalizers may succeed or refuse; they may not throw anything but ValidationError. */
function onlyTypedFailures(payload: unknown) {
  try {
    normalizePayload(payload, ctx);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw new Error(`threw ${(e as Error).name}: ${(e as Error).message}`);
  }
}

const realPayloads: unknown[] = [
  ...oktaSystemLogEvents(),
  ...fixtureJson<Array<{ body: unknown }>>("okta/event-hook-deliveries.json").map((d) => d.body),
  ...fixtureJson<{ events: unknown[] }>("okta/eventbridge-log-streaming.json").events,
  ...fixtureJson<Array<{ body: unknown }>>("hr/bamboohr-webhooks.json").map((d) => d.body),
  { type: "revoke.hr.termination", eventId: "e", employeeId: "1", email: "a@example.com", effectiveDate: "2026-01-01" },
];

/** Replaces the value at a random path of a payload with an arbitrary JSON value. */
function mutate(payload: unknown, path: number[], replacement: unknown): unknown {
  const copy = structuredClone(payload);
  let node: unknown = copy;
  let parent: Record<string, unknown> | unknown[] | undefined;
  let key: string | number | undefined;
  for (const step of path) {
    if (node === null || typeof node !== "object") break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, unknown>;
    key = keys[step % keys.length]!;
    node = (parent as Record<string, unknown>)[key];
  }
  if (parent && key !== undefined) (parent as Record<string, unknown>)[key] = replacement;
  return copy;
}

describe("normalizers never throw anything but a typed validation error", () => {
  it("on arbitrary JSON", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => onlyTypedFailures(value)), { numRuns: 500 });
  });

  it("on arbitrary objects shaped like the payloads they expect", () => {
    const shaped = fc.oneof(
      fc.record({ eventType: fc.constantFrom("com.okta.event_hook"), data: fc.jsonValue() }),
      fc.record({ source: fc.constant("aws.partner/okta.com/o/s"), "detail-type": fc.jsonValue(), detail: fc.jsonValue() }),
      fc.record({ eventType: fc.constantFrom("user.authentication.sso", "user.lifecycle.deactivate", "user.lifecycle.suspend"), uuid: fc.jsonValue(), published: fc.jsonValue(), target: fc.jsonValue(), actor: fc.jsonValue(), outcome: fc.jsonValue() }),
      fc.record({ employees: fc.array(fc.jsonValue()) }),
      fc.record({ type: fc.constant("revoke.hr.termination"), eventId: fc.jsonValue(), employeeId: fc.jsonValue(), email: fc.jsonValue(), effectiveDate: fc.jsonValue() }),
      fc.record({ "detail-type": fc.jsonValue(), detail: fc.jsonValue() }),
    );
    fc.assert(fc.property(shaped, (value) => onlyTypedFailures(value)), { numRuns: 1000 });
  });

  it("on real payloads with one value replaced anywhere", () => {
    fc.assert(
      fc.property(fc.constantFrom(...realPayloads), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.jsonValue(), (payload, path, replacement) =>
        onlyTypedFailures(mutate(payload, path, replacement)),
      ),
      { numRuns: 1500 },
    );
  });

  it("and every event they do yield passes the canonical schema", () => {
    for (const payload of realPayloads) {
      for (const e of normalizePayload(payload, ctx).events) expect(() => CanonicalEvent.parse(e)).not.toThrow();
    }
  });
});
