import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCatalog } from "../../functions/lib/catalog";

const ROOT = join(import.meta.dirname, "../fixtures");

export function fixtureJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(join(ROOT, path), "utf8")) as T;
}

/** okta/system-log-events.jsonl: one `{_source, event}` per line. */
export function oktaSystemLogEvents(): Array<Record<string, unknown>> {
  return readFileSync(join(ROOT, "okta/system-log-events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event: Record<string, unknown> }).event);
}

export function oktaEvent(eventType: string): Record<string, unknown> {
  const found = oktaSystemLogEvents().find((e) => e.eventType === eventType);
  if (!found) throw new Error(`no ${eventType} in fixtures`);
  return structuredClone(found);
}

/** A catalog that maps the fixtures' Okta app instances to two apps. */
export const testCatalog = parseCatalog({
  apps: [
    { id: "crm", name: "CRM", mode: "scim", owner: "o@example.com", scim: { baseUrl: "http://127.0.0.1:1/scim/v2", tokenRef: "T" }, okta: { appInstanceIds: ["0oam30ffmvM5cLzxo0h7"] } },
    { id: "wiki", name: "Wiki", mode: "manual", owner: "o@example.com", okta: { appInstanceIds: ["0oabe0e2jruaQccDf0h7"] } },
  ],
});
