// Plain JavaScript: dynalite's worker thread (dynamo-worker.mjs) uses it too, and a worker thread does
// not inherit the TypeScript loader. Types in browser-guard.d.mts.

const LOOPBACK_NAMES = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/**
 * The local runtime's operator endpoints (IAM-authorized on AWS: `POST /events`, the AWS APIs the CLI
 * calls, and dynalite, the ledger itself) carry no credentials locally: being on this machine is the
 * authorization. A web page open in the operator's browser is on this machine too: it can POST
 * text/plain without a CORS preflight, dynalite answers every preflight with `Access-Control-Allow-Origin: *`,
 * and DNS rebinding reaches any of them under the attacker's own name. So what the browser marks as
 * coming from another site or origin, or what is addressed to a name that is not this machine's
 * loopback (or `ownHost`), is refused. curl, the SDK and the CLI send neither Origin nor Sec-Fetch-Site.
 *
 * @param {Record<string, string | string[] | undefined>} headers
 * @param {string} [ownHost]
 * @returns {string | undefined} why the request is refused, or undefined
 */
export function browserRefusal(headers, ownHost) {
  const site = headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return "requests from another site are refused by the local runtime";
  const host = String(headers.host ?? "");
  const hostname = host.replace(/:\d+$/, "");
  if (!LOOPBACK_NAMES.test(hostname) && hostname !== ownHost) return "the local runtime answers operators on 127.0.0.1 or localhost only";
  const origin = headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return "requests from another origin are refused by the local runtime";
  return undefined;
}
