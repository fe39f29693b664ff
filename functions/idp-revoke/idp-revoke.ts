import type { Catalog } from "../lib/catalog";
import { ConfigError } from "../lib/errors";
import { GraphClient } from "../lib/graph";
import type { Evidence } from "../lib/http";
import type { IdpClient, IdpDisableResult } from "../lib/idp";
import { logger } from "../lib/observability";
import { OktaClient } from "../lib/okta";
import type { RateLimiter } from "../lib/rate-limit";
import { IdpStepInput } from "../lib/runs";

export type IdpClientFactory = (id: "okta" | "entra") => IdpClient;

export function idpClientFactory(catalog: Catalog, fetchImpl: typeof fetch = fetch, limiter?: RateLimiter): IdpClientFactory {
  return (id) => {
    if (id === "okta" && catalog.idp.okta) return OktaClient.fromSettings(catalog.idp.okta, fetchImpl, limiter);
    if (id === "entra" && catalog.idp.entra) return new GraphClient(catalog.idp.entra, fetchImpl, () => new Date(), limiter);
    throw new ConfigError(`IdP ${id} is not configured`);
  };
}

/** Closes the front door at one IdP: disable (or suspend) the user, then kill sessions and tokens. */
export async function idpRevoke(rawInput: unknown, deps: { clientFor: IdpClientFactory }): Promise<IdpDisableResult & { evidence: Evidence[] }> {
  const { subjectId, idp } = IdpStepInput.parse(rawInput);
  const client = deps.clientFor(idp.id);
  try {
    const result = await client.disable(idp.userRef, idp.action);
    logger.info("front door closed", { subjectId, idp: idp.id, action: idp.action, found: result.found });
    return { ...result, evidence: client.evidence };
  } catch (e) {
    logger.warn("front door step failed", { subjectId, idp: idp.id, error: (e as Error).name });
    throw e;
  }
}
