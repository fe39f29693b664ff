import { describe, expect, it } from "vitest";
import { parseCsv, parseRoster, rosterEntry } from "../../../functions/lib/roster";

const now = new Date("2026-12-03T12:00:00Z");

describe("HR roster", () => {
  it("reads CSV with a header, liberal column names, quotes, CRLF and a BOM", () => {
    const csv = '\uFEFFEmployee #,Work Email,Employment Status,Termination Date\r\n1001,Alice@Example.com,Active,\r\n1002,"bob@example.com",Terminated,2026-11-30\r\n1003,carol@example.com,Active,2026-12-03\r\n1004,dave@example.com,Active,2027-01-15\r\n"1005","eve@example.com","On Leave, paid",\r\n,,Active,\r\n';
    const roster = parseRoster(csv, "roster.csv", now);
    expect(roster.entries.map((e) => [e.employeeId, e.email, e.departed])).toEqual([
      ["1001", "alice@example.com", false],
      ["1002", "bob@example.com", true],
      // Effective today: departed (by calendar day, UTC, as HR terminations are).
      ["1003", "carol@example.com", true],
      ["1004", "dave@example.com", false],
      ["1005", "eve@example.com", false],
    ]);
    expect(roster.ignoredRows).toBe(1);
    expect(roster.byEmail.get("alice@example.com")?.employeeId).toBe("1001");
    expect(roster.byEmployeeId.get("1002")?.why).toBe("status Terminated, termination date 2026-11-30");
    expect(roster.byEmployeeId.get("1003")?.why).toBe("termination date 2026-12-03");
  });

  it("reads JSON: an array, or an object holding the array; snake_case, an active flag, epoch and basic dates", () => {
    const people = [
      { employee_id: 7, email: "a@example.com", active: true },
      { worker_id: "8", mail: "b@example.com", active: false },
      { hrId: "9", userPrincipalName: "c@example.com", last_day: 20261201 },
      { id: "10", email: "not-an-email", status: "Inactive" },
    ];
    for (const text of [JSON.stringify(people), JSON.stringify({ employees: people })]) {
      const roster = parseRoster(text, "r.json", now);
      expect(roster.entries.map((e) => [e.employeeId, e.email ?? null, e.departed])).toEqual([
        ["7", "a@example.com", false],
        ["8", "b@example.com", true],
        ["9", "c@example.com", true],
        ["10", null, true],
      ]);
    }
  });

  it("a person listed twice (re-hired): the active row wins", () => {
    const roster = parseRoster("email,status\nx@example.com,Terminated\nx@example.com,Active\n", "r.csv", now);
    expect(roster.byEmail.get("x@example.com")?.departed).toBe(false);
  });

  it("an unreadable termination date is not a departure; a status still can be", () => {
    expect(rosterEntry({ email: "a@example.com", terminationDate: "soon" }, "2026-12-03")).toMatchObject({ departed: false, terminationDate: undefined });
    expect(rosterEntry({ email: "a@example.com", status: "separated", terminationDate: "2027-02-30" }, "2026-12-03")).toMatchObject({ departed: true });
  });

  it("refuses what is not a roster, with the reason", () => {
    expect(() => parseRoster("", "r", now)).toThrow(/empty/);
    expect(() => parseRoster("{not json", "r", now)).toThrow(/not valid JSON/);
    expect(() => parseRoster('{"count": 3}', "r", now)).toThrow(/no array of people/);
    expect(() => parseCsv('email\n"unterminated')).toThrow(/unterminated/);
  });
});
