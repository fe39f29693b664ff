import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCatalog } from "../../../functions/lib/catalog";
import { Transient } from "../../../functions/lib/errors";
import { ScimClient } from "../../../functions/lib/scim";
import type { Store } from "../../../functions/lib/store";
import { scimRevoke, type ScimStepDeps } from "../../../functions/scim-revoke/scim-revoke";
import type { LocalDynamo } from "../../../local/dynamo";
import { ScimApp } from "../../../local/scim-app";
import { testStore } from "../../helpers/store";

/** scim-revoke against a real SCIM server and a real table: one run at a time deactivates an account. */
const app = new ScimApp({ token: "revoke-unit-token" });
let store: Store;
let dynamo: LocalDynamo;
let deps: ScimStepDeps;

beforeAll(async () => {
  await app.start();
  process.env.REVOKE_UNIT_TOKEN = "revoke-unit-token";
  ({ store, dynamo } = await testStore());
  const catalog = parseCatalog({ apps: [{ id: "crm", name: "CRM", mode: "scim", owner: "o@example.com", scim: { baseUrl: app.baseUrl, tokenRef: "REVOKE_UNIT_TOKEN" } }] });
  deps = { store, catalog, clientFor: () => ScimClient.forApp(catalog.apps[0]!), now: () => new Date(), claimWaitMs: 2_000 };
});
afterAll(async () => {
  await app.stop();
  await dynamo.close();
});

async function arrival(email: string) {
  const user = app.jitCreate(email);
  const subjectId = `sub-${email.split("@")[0]}`;
  await store.recordArrival({ subjectId, appId: "crm", accountName: email, firstSeenAt: "2026-12-01T00:00:00Z", via: "jit-sso", source: "okta", sourceEventId: `okta:${email}` });
  const step = (runName: string) => ({ subjectId, runName, app: { appId: "crm", appName: "CRM", mode: "scim" as const, accountName: email, emails: [email], action: "SCIM PATCH" } });
  return { user, subjectId, step };
}

describe("scim-revoke: one run at a time revokes an account", () => {
  it("a run that finds another run revoking the account waits; once that run has REVOKED it, nothing is sent again", async () => {
    const { user, subjectId, step } = await arrival("wait@example.com");
    expect(await scimRevoke(step("run-a"), deps)).toMatchObject({ scimId: user.id, found: true });
    const before = app.requests.length;
    const second = scimRevoke(step("run-b"), deps);
    await new Promise((r) => setTimeout(r, 300));
    // run-a reads back and records the outcome (with the app's id, as recordAppOutcome does) while run-b waits.
    await store.setAccountState(subjectId, "crm", { state: "REVOKED", revokedAt: "2026-12-03T10:00:00.000Z", verifiedAt: "2026-12-03T10:00:00.000Z", scimId: user.id });
    expect(await second).toEqual({ scimId: user.id, found: true, revokedAt: "2026-12-03T10:00:00.000Z", evidence: [] });
    expect(app.requests.length).toBe(before);
    expect(app.deactivations.get(user.id)).toBe(1);
  });

  it("the same run again (a retry, a re-drive) reclaims its account; an app that already says inactive is not deactivated twice", async () => {
    const { user, step } = await arrival("again@example.com");
    await scimRevoke(step("run-c"), deps);
    await scimRevoke(step("run-c"), deps);
    expect(app.deactivations.get(user.id)).toBe(1);
  });

  it("waiting for another run longer than the limit is Transient, for the state machine to retry", async () => {
    const { step } = await arrival("slow@example.com");
    await scimRevoke(step("run-d"), deps);
    const started = Date.now();
    await expect(scimRevoke(step("run-e"), { ...deps, claimWaitMs: 300 })).rejects.toThrow(Transient);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("a claim older than ten minutes (a run that died) is taken over; a FAILED account is claimable at once", async () => {
    const { user, subjectId, step } = await arrival("stale@example.com");
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000).toISOString();
    expect(await store.claimAccount(subjectId, "crm", "run-dead", elevenMinutesAgo, "2000-01-01T00:00:00Z")).toBe(true);
    expect(await scimRevoke(step("run-f"), { ...deps, claimWaitMs: 0 })).toMatchObject({ scimId: user.id });
    expect(app.deactivations.get(user.id)).toBe(1);
    await store.setAccountState(subjectId, "crm", { state: "FAILED" });
    expect(await store.claimAccount(subjectId, "crm", "run-g", new Date().toISOString(), elevenMinutesAgo)).toBe(true);
    await store.setAccountState(subjectId, "crm", { state: "REVOKED" });
    expect(await store.claimAccount(subjectId, "crm", "run-h", new Date().toISOString(), new Date().toISOString())).toBe(false);
  });
});
