import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors";
import { normalizePayload } from "../../../functions/normalize";
import { fixtureJson, testCatalog } from "../../helpers/fixtures";

const ctx = { catalog: testCatalog };
const bamboo = fixtureJson<Array<{ kind: string; body: Record<string, unknown> }>>("hr/bamboohr-webhooks.json");
const fieldBased = () => structuredClone(bamboo.find((b) => b.kind.startsWith("field-based"))!.body);

describe("generic HR termination (revoke.hr.termination)", () => {
  const base = { type: "revoke.hr.termination", eventId: "evt-1", employeeId: "E1", email: "Alice@Example.com", effectiveDate: "2026-12-01" };

  it("is a departure linking the HR id and the email", () => {
    const { events } = normalizePayload(base, ctx);
    expect(events[0]).toEqual({
      detailType: "Identity.Departed",
      detail: {
        subject: { email: "alice@example.com", hrId: "E1" },
        occurredAt: "2026-12-01T00:00:00.000Z",
        effectiveAt: "2026-12-01T00:00:00.000Z",
        source: "hr",
        sourceEventId: "hr:evt-1",
        reason: "HR termination",
      },
    });
  });

  it("takes numbers for ids and timestamps with odd offsets", () => {
    const { detail } = normalizePayload({ ...base, employeeId: 1001, eventId: 7, effectiveDate: "2026-12-01T17:00:00-0500" }, ctx).events[0]!;
    expect(detail.subject.hrId).toBe("1001");
    expect(detail.sourceEventId).toBe("hr:7");
    expect(detail.effectiveAt).toBe("2026-12-01T22:00:00.000Z");
  });

  it.each([
    [{ email: undefined }, /^HR termination: email: is required$/],
    [{ employeeId: undefined }, /^HR termination: employeeId: is required$/],
    [{ email: "not-an-email" }, /email/],
    [{ eventId: "" }, /eventId/],
    [{ effectiveDate: "soon" }, /effectiveDate is not a timestamp/],
  ])("rejects %j with a reason naming the field", (change, reason) => {
    expect(() => normalizePayload({ ...base, ...change }, ctx)).toThrow(reason);
  });

  it.each(["0001-01-01", "1900-01-01", "1970-01-01", "100000000", 100000000, "9999-12-31", 99999999999999])(
    "refuses the placeholder or id %j as an effective date (it would start today or never)",
    (effectiveDate) => {
      expect(() => normalizePayload({ ...base, effectiveDate }, ctx)).toThrow(ValidationError);
    },
  );

  it("refuses control characters in ids (they would forge lines in terminals and owner messages) and blanks them in a reason", () => {
    for (const change of [{ employeeId: "4004\n  crm REVOKED" }, { eventId: "inj2\u001b[2J" }]) {
      // The reason names the field as the sender wrote it.
      expect(() => normalizePayload({ ...base, ...change }, ctx), JSON.stringify(change)).toThrow(new RegExp(`^HR termination: ${Object.keys(change)[0]}: must not contain control characters`));
    }
    const { detail } = normalizePayload({ ...base, reason: "resigned\nlast day\u001b[2J" }, ctx).events[0]!;
    expect(detail.reason).toBe("resigned last day [2J");
  });
});

describe("BambooHR webhooks (real fixture shapes)", () => {
  it("a field-based change that is not a termination is ignored", () => {
    expect(normalizePayload(fieldBased(), ctx)).toMatchObject({ events: [], ignored: [{ reason: "no termination in this change" }] });
  });

  it("Status Terminated is a departure at the termination date, with the work email when sent", () => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0] = {
      action: "Updated",
      changedFields: ["Status", "Termination Date"],
      fields: { "Employment Status": "Terminated", "Termination Date": "2026-12-05", "Work Email": "bryony@example.com" },
      id: 12345,
      timestamp: "2026-01-31T18:42:00+0000",
    };
    const { detail } = normalizePayload(body, ctx).events[0]!;
    expect(detail).toMatchObject({ subject: { hrId: "12345", email: "bryony@example.com" }, effectiveAt: "2026-12-05T00:00:00.000Z", occurredAt: "2026-01-31T18:42:00.000Z", source: "hr" });
  });

  it("Status inactive (any casing) without an email links by HR id alone", () => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0]!.fields = { status: "INACTIVE" };
    expect(normalizePayload(body, ctx).events[0]!.detail.subject).toEqual({ hrId: "12345" });
  });

  it.each(["Not terminated", "Termination rescinded", "Active"])("Status %j is not a departure", (status) => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0]!.fields = { Status: status };
    expect(normalizePayload(body, ctx).events).toEqual([]);
  });

  it("the work email links the person; a home or personal address never does", () => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0]!.fields = { "Home Email": "ivan.personal@gmail.com", "Work Email": "ivan@example.com", Status: "Inactive" };
    expect(normalizePayload(body, ctx).events[0]!.detail.subject.email).toBe("ivan@example.com");
    (body.employees as Array<Record<string, unknown>>)[0]!.fields = { "Personal Email": "ivan.personal@gmail.com", Status: "Inactive" };
    expect(normalizePayload(body, ctx).events[0]!.detail.subject).toEqual({ hrId: "12345" });
  });

  it.each(["Supervisor Email", "Manager Email", "Reports To Email", "supervisorEmail", "Emergency Contact Email"])(
    "an address in %j names someone else: the person is known by HR id alone, never as that someone",
    (key) => {
      const body = fieldBased();
      (body.employees as Array<Record<string, unknown>>)[0]!.fields = { Status: "Terminated", "Work Email": "", [key]: "boss@example.com" };
      expect(normalizePayload(body, ctx).events[0]!.detail.subject).toEqual({ hrId: "12345" });
    },
  );

  it.each(["Email", "email", "workEmail", "work_email", "Email Address"])("the person's own address under %j links them", (key) => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0]!.fields = { Status: "Terminated", [key]: "jo@example.com", "Supervisor Email": "boss@example.com" };
    expect(normalizePayload(body, ctx).events[0]!.detail.subject).toEqual({ hrId: "12345", email: "jo@example.com" });
  });

  it("either status field saying Terminated is a termination, in whatever order the fields come", () => {
    const body = fieldBased();
    const employee = (body.employees as Array<Record<string, unknown>>)[0]!;
    for (const fields of [
      { Status: "Active", "Employment Status": "Terminated", "Work Email": "carol@example.com" },
      { "Employment Status": "Terminated", Status: "Active", "Work Email": "carol@example.com" },
      { "Employment Status": "Full-Time", Status: "Inactive", "Work Email": "carol@example.com" },
    ]) {
      employee.fields = fields;
      const [event] = normalizePayload(body, ctx).events;
      expect(event?.detailType, JSON.stringify(fields)).toBe("Identity.Departed");
    }
  });

  it.each(["0000-00-00", "0000-00-00 00:00:00", "00/00/0000"])("an empty date sent as %j is no date: the change's timestamp is used, and the delivery is not refused", (date) => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0] = { action: "Updated", fields: { Status: "Inactive", "Termination Date": date }, id: "77", timestamp: "2026-12-03T10:00:00+0000" };
    expect(normalizePayload(body, ctx).events[0]!.detail.effectiveAt).toBe("2026-12-03T10:00:00.000Z");
  });

  it("an id sent as a JSON number past 2^53 is refused (it has already lost digits and may be another person's)", () => {
    const body = fieldBased();
    (body.employees as Array<Record<string, unknown>>)[0] = { action: "Deleted", fields: [], id: 9007199254740993, timestamp: "2026-12-03T10:00:00+0000" };
    expect(() => normalizePayload(body, ctx)).toThrow(/employees\[0\]\.id is a number too large to be exact/);
    const termination = { type: "revoke.hr.termination", eventId: "e-big", employeeId: 9007199254740993, email: "yan@example.com", effectiveDate: "2026-12-01" };
    expect(() => normalizePayload(termination, ctx)).toThrow(/employeeId.*too large to be exact/);
    expect(() => normalizePayload({ ...termination, employeeId: "9007199254740993", eventId: 20261204000000000001 }, ctx)).toThrow(/eventId/);
    expect(normalizePayload({ ...termination, employeeId: "9007199254740993" }, ctx).events[0]!.detail.subject.hrId).toBe("9007199254740993");
  });

  it("over-long identifiers are refused at the door, not dead-lettered later", () => {
    expect(() => normalizePayload({ type: "revoke.hr.termination", eventId: "e", employeeId: "x".repeat(3000), email: "a@example.com", effectiveDate: "2026-12-01" }, ctx)).toThrow(/hrId/);
  });

  it("a Deleted employee record is a departure", () => {
    const body = fieldBased();
    Object.assign((body.employees as Array<Record<string, unknown>>)[0]!, { action: "Deleted", changedFields: [], fields: {} });
    expect(normalizePayload(body, ctx).events[0]!.detail.reason).toBe("employee record deleted in BambooHR");
  });

  it("event-based webhooks carry no values: ignored with a reason that says what to configure", () => {
    const body = bamboo.find((b) => b.kind.startsWith("event-based"))!.body;
    expect(normalizePayload(body, ctx).ignored[0]!.reason).toMatch(/field-based webhook/);
  });

  it("an employee entry without an id is rejected", () => {
    const body = fieldBased();
    delete (body.employees as Array<Record<string, unknown>>)[0]!.id;
    expect(() => normalizePayload(body, ctx)).toThrow(ValidationError);
  });
});

describe("canonical events", () => {
  const detail = { subject: { email: "a@example.com" }, occurredAt: "2026-12-01T00:00:00Z", source: "manual", sourceEventId: "m-1", reason: "r", actor: "me" };
  it("accepts the PutEvents shape and the detailType shape", () => {
    expect(normalizePayload({ "detail-type": "Identity.Departed", detail }, ctx).events).toHaveLength(1);
    expect(normalizePayload({ detailType: "Identity.Departed", detail }, ctx).events).toHaveLength(1);
  });
  it("rejects an unknown detail-type or source, and a subject with no identifier", () => {
    expect(() => normalizePayload({ "detail-type": "Identity.Exploded", detail }, ctx)).toThrow(/^canonical event: detail-type: /);
    expect(() => normalizePayload({ detailType: "Identity.Exploded", detail }, ctx)).toThrow(/^canonical event: detailType: /);
    expect(() => normalizePayload({ "detail-type": "Identity.Departed", detail: { ...detail, source: "mars" } }, ctx)).toThrow(ValidationError);
    expect(() => normalizePayload({ "detail-type": "Identity.Departed", detail: { ...detail, subject: {} } }, ctx)).toThrow(/at least one identifier/);
  });
});
