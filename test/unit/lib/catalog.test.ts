import { describe, expect, it } from "vitest";
import { loadCatalogFile, parseCatalog } from "../../../functions/lib/catalog";
import { ConfigError } from "../../../functions/lib/errors";

const good = { id: "crm", name: "CRM", mode: "scim", owner: "o@example.com", scim: { baseUrl: "https://crm.example.com/scim/v2/", tokenRef: "CRM_TOKEN" } };

describe("app catalog", () => {
  it("applies defaults and trims the base URL", () => {
    const app = parseCatalog({ apps: [good] }).apps[0]!;
    expect(app.scim).toMatchObject({ baseUrl: "https://crm.example.com/scim/v2", deactivate: "patch", matchBy: ["userName", "emails.value"] });
    expect(app.okta.appInstanceIds).toEqual([]);
  });

  it.each([
    [{ ...good, scim: { ...good.scim, baseUrl: "ftp://x" } }, /apps\[0\] \(id "crm"\)\.scim\.baseUrl/],
    [{ ...good, scim: undefined }, /apps\[0\] \(id "crm"\)\.scim: is required when mode is "scim"/],
    [{ ...good, mode: "magic" }, /apps\[0\] \(id "crm"\)\.mode/],
    [{ ...good, id: "Bad Id" }, /apps\[0\] \(id "Bad Id"\)\.id: must be lower-case/],
    [{ ...good, scim: { ...good.scim, deactivate: "shred" } }, /scim\.deactivate/],
  ])("names the entry and the field of a bad entry (%#)", (entry, message) => {
    expect(() => parseCatalog({ apps: [entry] })).toThrow(message);
  });

  it("refuses duplicate ids and an Okta instance mapped to two apps", () => {
    expect(() => parseCatalog({ apps: [good, good] })).toThrow(/apps\[1\] \(id "crm"\)\.id: duplicates apps\[0\]/);
    const a = { ...good, okta: { appInstanceIds: ["0oa1"] } };
    expect(() => parseCatalog({ apps: [a, { ...a, id: "wiki" }] })).toThrow(/0oa1 is already mapped to crm/);
  });

  it("a missing or non-JSON file is a ConfigError that says which", () => {
    expect(() => loadCatalogFile("/nonexistent/apps.json")).toThrow(ConfigError);
    expect(() => loadCatalogFile(import.meta.filename)).toThrow(/is not JSON/);
  });

  it("the shipped example catalog is valid", () => {
    expect(loadCatalogFile("config/apps.example.json").apps.map((a) => a.id)).toEqual(["crm", "wiki", "payroll"]);
  });
});
