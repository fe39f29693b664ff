import type { FindingKind } from "../../functions/lib/reconcile";
import type { Store } from "../../functions/lib/store";
import type { OktaStandIn } from "../../local/idp-standins";
import type { ScimApp } from "../../local/scim-app";

/**
 * A seeded estate for reconciliation: three SCIM apps, the ledger, Okta and an HR roster, with each
 * finding kind planted once or twice, next to accounts that must not be findings (an active person on
 * record, an inactive account of a leaver, a revoked account that stayed revoked).
 */
export const ESTATE_APPS = ["crm", "wiki", "billing"] as const;

export const ESTATE_ROSTER_CSV = [
  "Employee #,Work Email,Employment Status,Termination Date",
  "1001,alice@example.com,Active,",
  "1002,bob@example.com,Terminated,2026-10-31",
  "1003,carol@example.com,Active,2026-11-30",
  "1004,dave@example.com,Active,",
  "1005,eve@example.com,Active,",
  "1006,frank@example.com,Active,",
  "1007,grace@example.com,Terminated,2026-09-30",
  "1008,henry@example.com,Active,",
].join("\r\n");

/** Exactly what a reconciliation of this estate must report: [app, kind, account userName]. */
export const ESTATE_EXPECTED: Array<[string, FindingKind, string]> = [
  ["crm", "orphan", "bob@example.com"], // the ledger says OFFBOARDED (and HR says terminated); the account is active
  ["crm", "revoked-but-active", "dave@example.com"], // REVOKED in the ledger, active again in the app
  ["crm", "unrecorded", "FRANK@EXAMPLE.COM"], // an active employee (roster only) whose account nobody recorded
  ["wiki", "unrecorded", "alice@example.com"], // an active person on record, but not this account
  ["wiki", "orphan", "eve@example.com"], // deactivated at Okta
  ["billing", "orphan", "carol.c"], // the roster's termination date has passed; matched by externalId and an email in other casing
  ["billing", "unknown", "mallory@evil.example"], // nobody anywhere
];

const T0 = "2026-06-01T00:00:00.000Z";

export async function seedEstate(store: Store, apps: Record<(typeof ESTATE_APPS)[number], ScimApp>, okta: OktaStandIn): Promise<void> {
  const person = async (email: string, ids: { hrId?: string; oktaId?: string }, status?: "OFFBOARDED", departedAt?: string) => {
    const p = await store.resolveSubject({ email, ...ids }, T0);
    if (status) await store.putItem({ ...(await store.getItem(`SUBJECT#${p.subjectId}`, "PROFILE")), status, departedAt });
    return p.subjectId;
  };
  const onRecord = async (subjectId: string, appId: string, accountName: string, override: Record<string, unknown> = {}) => {
    await store.recordArrival({ subjectId, appId, appName: appId, accountName, firstSeenAt: T0, via: "jit-sso", source: "okta", sourceEventId: `seed-${subjectId}-${appId}` });
    if (Object.keys(override).length) await store.putItem({ ...(await store.getItem(`SUBJECT#${subjectId}`, `ACCOUNT#${appId}`)), ...override });
  };

  const alice = await person("alice@example.com", { hrId: "1001", oktaId: "00ualice" });
  okta.addUser("00ualice", "alice@example.com");
  apps.crm.jitCreate("alice@example.com");
  await onRecord(alice, "crm", "alice@example.com");
  apps.wiki.jitCreate("alice@example.com");

  const bob = await person("bob@example.com", { hrId: "1002" }, "OFFBOARDED", "2026-10-31T00:00:00.000Z");
  okta.addUser("00ubob", "bob@example.com", "DEPROVISIONED");
  apps.crm.jitCreate("bob@example.com");
  await onRecord(bob, "crm", "bob@example.com", { state: "FAILED", detail: "the app answered 500 three times" });

  await person("carol@example.com", { hrId: "1003" });
  const carol = apps.billing.jitCreate("carol.c", "Carol@Example.com");
  carol.externalId = "1003";

  const dave = await person("dave@example.com", { hrId: "1004" });
  okta.addUser("00udave", "dave@example.com");
  apps.crm.jitCreate("dave@example.com");
  await onRecord(dave, "crm", "dave@example.com", { state: "REVOKED", revokedAt: "2026-11-15T00:00:00.000Z", verifiedAt: "2026-11-15T00:00:01.000Z", lastRun: "offboard-dave-1" });

  const eve = await person("eve@example.com", { hrId: "1005", oktaId: "00ueve" });
  okta.addUser("00ueve", "eve@example.com", "DEPROVISIONED");
  apps.wiki.jitCreate("eve@example.com");
  await onRecord(eve, "wiki", "eve@example.com");

  okta.addUser("00ufrank", "frank@example.com");
  apps.crm.jitCreate("FRANK@EXAMPLE.COM", "frank@example.com");

  const grace = await person("grace@example.com", { hrId: "1007" }, "OFFBOARDED", "2026-09-30T00:00:00.000Z");
  apps.crm.jitCreate("grace@example.com").active = false;
  await onRecord(grace, "crm", "grace@example.com", { state: "REVOKED", revokedAt: "2026-09-30T01:00:00.000Z" });

  const henry = await person("henry@example.com", { hrId: "1008" });
  okta.addUser("00uhenry", "henry@example.com");
  apps.billing.jitCreate("henry@example.com");
  await onRecord(henry, "billing", "henry@example.com");

  apps.billing.jitCreate("mallory@evil.example");
}
