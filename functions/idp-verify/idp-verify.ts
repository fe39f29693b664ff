import type { Evidence } from "../lib/http";
import type { IdpVerifyResult } from "../lib/idp";
import { IdpStepInput } from "../lib/runs";
import type { IdpClientFactory } from "../idp-revoke/idp-revoke";

/** Reads the user back at the IdP; anything still open throws Unverified (retried, then FAILED). */
export async function idpVerify(rawInput: unknown, deps: { clientFor: IdpClientFactory }): Promise<IdpVerifyResult & { evidence: Evidence[] }> {
  const { idp } = IdpStepInput.parse(rawInput);
  const client = deps.clientFor(idp.id);
  const result = await client.verify(idp.userRef, idp.action);
  return { ...result, evidence: client.evidence };
}
