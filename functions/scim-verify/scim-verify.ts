import * as z from "zod";
import { Unverified } from "../lib/errors";
import { logger } from "../lib/observability";
import { AppStepInput } from "../lib/runs";
import type { ScimEvidence } from "../lib/scim";
import type { AppResult, Store } from "../lib/store";
import { recordAppOutcome } from "../record-app-outcome/record-app-outcome";
import type { ScimStepDeps } from "../scim-revoke/scim-revoke";

const VerifyInput = AppStepInput.extend({
  revoke: z.object({ scimId: z.string().nullable(), found: z.boolean(), revokedAt: z.string() }),
});

export interface VerifyResult {
  verifiedAt: string;
  readBack: "inactive" | "absent";
  evidence: ScimEvidence[];
}

/**
 * Reads the account back. Verified means the app itself now says inactive (`active: false`) or has no
 * such account (404, or no match). A 200 that still says active is the failure mode this exists for:
 * it throws Unverified, which the state machine retries briefly and then records as FAILED.
 */
export async function scimVerify(rawInput: unknown, deps: Pick<ScimStepDeps, "clientFor" | "now">): Promise<VerifyResult> {
  const { subjectId, app, revoke } = VerifyInput.parse(rawInput);
  const client = await deps.clientFor(app.appId);
  const user = revoke.scimId ? await client.getUser(revoke.scimId) : await client.findUser([app.accountName ?? "", ...app.emails]);
  if (user && user.active !== false) {
    logger.warn("read-back shows account still active", { subjectId, appId: app.appId });
    throw new Unverified(`read-back of ${app.appId} shows active=${String(user.active)} after deactivation`);
  }
  if (user && client.managesGroups) {
    const left = await client.groupsOf(user.id);
    if (left.length) throw new Unverified(`read-back of ${app.appId} shows the account still in ${left.length} group(s)`);
  }
  return { verifiedAt: deps.now().toISOString(), readBack: user ? "inactive" : "absent", evidence: client.evidence };
}

/**
 * The state machine's "Verify by read-back" step: verifies, then records the app REVOKED at once, the
 * same way "Record app outcome" would. Doing both in one invocation saves a state transition and an
 * invocation per app on the common path (the cost per offboarding is mostly transitions). A read-back
 * that fails throws before anything is recorded, and the state machine's Catch records the failure.
 */
export async function verifyAndRecord(rawInput: unknown, deps: Pick<ScimStepDeps, "clientFor" | "now"> & { store: Store }): Promise<AppResult> {
  const verify = await scimVerify(rawInput, deps);
  return recordAppOutcome({ ...(rawInput as object), verify }, { store: deps.store });
}
