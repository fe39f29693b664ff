import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalogFile } from "../../../functions/lib/catalog";
import { normalizePayload } from "../../../functions/normalize";

const root = join(import.meta.dirname, "../../..");
const catalog = loadCatalogFile(join(root, "config/apps.example.json"));
const example = (name: string) => JSON.parse(readFileSync(join(root, "examples", name), "utf8")) as unknown;

// examples/README.md promises what each file becomes: keep it true.
describe("the example payloads of examples/ become what their README says, for the same person", () => {
  it.each([
    ["okta-sso-event.json", "Identity.Arrived", "crm"],
    ["okta-event-hook-delivery.json", "Identity.Arrived", "crm"],
    ["okta-log-streaming-deactivate.json", "Identity.Departed", undefined],
    ["hr-termination.json", "Identity.Departed", undefined],
    ["bamboohr-field-webhook-termination.json", "Identity.Departed", undefined],
    ["canonical-departure.json", "Identity.Departed", undefined],
  ])("%s → %s", (file, detailType, appId) => {
    const { events } = normalizePayload(example(file), { catalog });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ detailType, detail: { subject: { email: "alice@example.com" }, ...(appId ? { app: { id: appId } } : {}) } });
    const oktaId = (events[0]!.detail.subject as { oktaId?: string }).oktaId;
    if (oktaId) expect(oktaId).toBe("00u000000000000012");
  });
});
