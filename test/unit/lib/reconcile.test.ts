import { describe, expect, it } from "vitest";
import { type AccountContext, type AppReport, appMarkdown, capAppReport, classifyAccount, emptyCounts, type Finding, reportMarkdown } from "../../../functions/lib/reconcile";
import type { Account, Profile } from "../../../functions/lib/store";

const account = (over: Partial<AccountContext["account"]> = {}) => ({ scimId: "u1", userName: "alice@example.com", emails: ["alice@example.com"], active: true as boolean | null, ...over });
const profile = (over: Partial<Profile> = {}): Profile => ({ subjectId: "sub-a", status: "ACTIVE", emails: ["alice@example.com"], createdAt: "2026-01-01T00:00:00Z", ...over });
const ledger = (state: Account["state"], over: Partial<Account> = {}): Account => ({ subjectId: "sub-a", appId: "crm", firstSeenAt: "2026-01-01T00:00:00Z", via: "jit-sso", source: "okta", sourceEventId: "e1", state, ...over });
const ctx = (over: Partial<AccountContext> = {}): AccountContext => ({ account: account(), subjects: [], idp: [], rosterConfigured: true, ...over });
const roster = (departed: boolean) => ({ employeeId: "1001", email: "alice@example.com", status: departed ? "Terminated" : "Active", departed, why: departed ? "status Terminated" : "status Active" });

describe("classifying one listed account", () => {
  it.each<[string, AccountContext, Finding["kind"] | undefined, RegExp?]>([
    ["an inactive account is never a finding, whoever it belongs to", ctx({ account: account({ active: false }), subjects: [profile({ status: "OFFBOARDED" })] }), undefined],
    ["no one in the ledger or the roster (no IdP configured)", ctx(), "unknown", /no one in the ledger or the HR roster matches/],
    ["absent at the IdP is still no one", ctx({ idp: [{ idp: "okta", status: "absent", disabled: false }] }), "unknown", /no one in the ledger, the HR roster or the IdP/],
    ["identifiers of two different people: unknown, never guessed", ctx({ subjects: [profile(), profile({ subjectId: "sub-b" })] }), "unknown", /2 different people/],
    ["REVOKED in the ledger, active in the app: a regression, even for a departed person", ctx({ subjects: [profile({ status: "OFFBOARDED", departedAt: "x" })], ledger: ledger("REVOKED", { revokedAt: "2026-11-01T00:00:00Z", lastRun: "offboard-1" }) }), "revoked-but-active", /REVOKED at 2026-11-01.*offboard-1/],
    ["the ledger says OFFBOARDED", ctx({ subjects: [profile({ status: "OFFBOARDED", departedAt: "2026-11-01" })], ledger: ledger("FAILED") }), "orphan", /ledger says OFFBOARDED since 2026-11-01/],
    ["the roster says terminated, the ledger thinks active", ctx({ subjects: [profile()], ledger: ledger("ACTIVE"), roster: roster(true) }), "orphan", /HR roster says status Terminated/],
    ["disabled at the IdP", ctx({ subjects: [profile()], ledger: ledger("ACTIVE"), idp: [{ idp: "okta", status: "DEPROVISIONED", disabled: true }] }), "orphan", /Okta says DEPROVISIONED/],
    ["NEEDS_ATTENTION without a departure (a failed suspension) is not a departure", ctx({ subjects: [profile({ status: "NEEDS_ATTENTION" })], ledger: ledger("ACTIVE") }), undefined],
    ["RETAINED by an owner is an explicit exception, not an orphan", ctx({ subjects: [profile({ status: "OFFBOARDED", departedAt: "x" })], ledger: ledger("RETAINED") }), undefined],
    ["an active person whose account the ledger lacks", ctx({ subjects: [profile()] }), "unrecorded", /known to the ledger/],
    ["known only to the roster, active", ctx({ roster: roster(false) }), "unrecorded", /known to the HR roster/],
    ["known only to the IdP, active", ctx({ idp: [{ idp: "entra", status: "enabled", disabled: false }] }), "unrecorded", /known to the IdP/],
    ["an active person with the account on record: nothing to say", ctx({ subjects: [profile()], ledger: ledger("ACTIVE"), roster: roster(false) }), undefined],
    ["an app that does not say active is read as active (and says so)", ctx({ account: account({ active: null }) }), "unknown", /does not say whether it is active/],
  ])("%s", (_title, context, kind, reason) => {
    const finding = classifyAccount("crm", context);
    expect(finding?.kind).toBe(kind);
    if (reason) expect(finding!.reason).toMatch(reason);
  });

  it("keeps the evidence that produced the finding: match, ledger, roster, IdP", () => {
    const finding = classifyAccount("crm", ctx({ matchedBy: "emails.value=alice@example.com", subjects: [profile()], ledger: ledger("ACTIVE"), roster: roster(true), idp: [{ idp: "okta", status: "ACTIVE", disabled: false }] }))!;
    expect(finding).toMatchObject({
      kind: "orphan",
      subjectId: "sub-a",
      person: "alice@example.com",
      evidence: {
        matchedBy: "emails.value=alice@example.com",
        ledger: { subjectId: "sub-a", status: "ACTIVE", account: { state: "ACTIVE" } },
        roster: { employeeId: "1001", status: "Terminated", departed: true },
        idp: [{ idp: "okta", status: "ACTIVE", disabled: false }],
      },
    });
  });
});

describe("the report", () => {
  const finding = (i: number, kind: Finding["kind"] = "unknown"): Finding => ({ kind, appId: "crm", account: account({ scimId: `u${i}`, userName: `user${i}|x@example.com` }), reason: `reason ${i} ${"x".repeat(400)}`, evidence: {} });
  const app = (findings: Finding[]): AppReport => ({ runId: "r1", appId: "crm", appName: "CRM", status: "COMPLETE", listedAt: "t", accounts: findings.length, activeAccounts: findings.length, counts: { ...emptyCounts(), unknown: findings.length }, findings, omitted: 0 });

  it("is capped per app to fit one DynamoDB item, keeping the most serious findings and counting the rest", () => {
    const findings = Array.from({ length: 2000 }, (_, i) => finding(i, i === 1999 ? "revoked-but-active" : "unknown"));
    const capped = capAppReport(app(findings));
    expect(capped.findings.length + capped.omitted).toBe(2000);
    expect(capped.omitted).toBeGreaterThan(0);
    expect(capped.findings[0]!.kind).toBe("revoked-but-active");
    const stored = JSON.stringify({ ...capped, markdown: appMarkdown(capped) });
    expect(Buffer.byteLength(stored)).toBeLessThan(400 * 1024);
    expect(appMarkdown(capped)).toContain(`${capped.omitted} more finding(s) not stored`);
  });

  it("renders a table per app, escaping what would break a Markdown table", () => {
    const md = reportMarkdown({
      runId: "r1",
      requestedBy: "schedule",
      startedAt: "t0",
      completedAt: "t1",
      apps: [app([finding(1)]), { ...app([]), appId: "wiki", appName: "Wiki", status: "FAILED", error: "Permanent: GET /Users answered 401" }],
      skipped: [{ appId: "payroll", reason: "no list API" }],
      totals: { ...emptyCounts(), unknown: 1 },
      remediation: { enabled: false, started: 0, held: 0, duplicate: 0, skipped: 0, failed: 0 },
    });
    expect(md).toContain("### CRM (`crm`)");
    expect(md).toContain("| finding | account | person | why | action |");
    expect(md).toContain("user1\\|x@example.com (u1)");
    expect(md).toContain("Could not be reconciled: Permanent: GET /Users answered 401");
    expect(md).toContain("Not reconciled: `payroll`, no list API.");
    expect(md).toContain("Remediation is off");
    expect(md).toContain("No HR roster configured");
  });
});
