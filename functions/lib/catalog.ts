import { readFileSync } from "node:fs";
import * as z from "zod";
import { ConfigError } from "./errors";

const appId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lower-case letters, digits and dashes");

/** How an app wants a user deactivated. Providers differ (see test/fixtures/scim/provider-responses.json). */
export const DeactivateMethod = z.enum([
  /** RFC 7644 PATCH, `{op: "replace", path: "active", value: false}`: the standard form. */
  "patch",
  /** Okta-style PATCH without a path: `{op: "replace", value: {active: false}}`. */
  "patch-value",
  /** DELETE /Users/{id}; some apps (Slack) only deactivate on DELETE, which verification accepts too. */
  "delete",
]);

export const ScimSettings = z
  .object({
  baseUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")),
  /** A bearer token by reference: an environment variable name (local runtime) or a Secrets Manager ARN (AWS). */
  tokenRef: z.string().min(1).optional(),
  /** Or OAuth 2.0 client credentials, for apps that issue short-lived tokens. */
  oauth: z
    .object({ tokenUrl: z.url({ protocol: /^https?$/ }), clientId: z.string().min(1), clientSecretRef: z.string().min(1), scope: z.string().optional() })
    .optional(),
  /** The app models roles as SCIM Groups: remove the person from each (and only the person). */
  groups: z.boolean().default(false),
  deactivate: DeactivateMethod.default("patch"),
  /** Some apps (built against Entra's requests) accept only the capitalized `Replace` op. */
  patchOpCasing: z.enum(["lower", "capitalized"]).default("lower"),
  /** Attributes tried in order to find the person's account when no SCIM id is recorded. */
  matchBy: z.array(z.enum(["userName", "emails.value", "externalId"])).min(1).default(["userName", "emails.value"]),
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  /** Calls per minute this app allows, kept across every concurrent run. */
  rateLimitPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  /** Apps that share one limit (Slack's SCIM limits are org-wide) name the same bucket. */
  rateLimitBucket: z.string().min(1).max(128).optional(),
  })
  .refine((s) => Boolean(s.tokenRef) !== Boolean(s.oauth), { message: "needs exactly one of tokenRef or oauth", path: ["tokenRef"] });
export type ScimSettings = z.infer<typeof ScimSettings>;

export const AppEntry = z
  .object({
    id: appId,
    name: z.string().min(1),
    mode: z.enum(["scim", "manual"]),
    owner: z.string().min(1),
    backupOwner: z.string().min(1).optional(),
    privileged: z.boolean().default(false),
    /** Time-boxed access: every account in this app ends this many days after its first sign-in. */
    maxAccessDays: z.number().int().min(1).max(3650).optional(),
    scim: ScimSettings.optional(),
    /** Apps without SCIM: a person removes the account and confirms. No task waits forever. */
    manual: z
      .object({
        /** How long the owner has, then the backup owner has as long again (default 72 h each). */
        timeoutSeconds: z.number().int().min(2).max(20 * 86_400).default(72 * 3600),
      })
      .default({ timeoutSeconds: 72 * 3600 }),
    okta: z
      .object({
        appInstanceIds: z.array(z.string().min(1)).default([]),
        /** Okta groups whose membership grants this app: leaving one is a role change (a mover). */
        groupIds: z.array(z.string().min(1)).default([]),
      })
      .default({ appInstanceIds: [], groupIds: [] }),
  })
  .superRefine((app, ctx) => {
    if (app.mode === "scim" && !app.scim) {
      ctx.addIssue({ code: "custom", path: ["scim"], message: "is required when mode is \"scim\"" });
    }
  });
export type AppEntry = z.infer<typeof AppEntry>;

/** Okta Management API: an API token (SSWS) or, preferred, an OAuth 2.0 service app with a private-key JWT. */
export const OktaSettings = z.object({
  orgUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")),
  auth: z.discriminatedUnion("type", [
    z.object({ type: z.literal("api-token"), tokenRef: z.string().min(1) }),
    z.object({
      type: z.literal("private-key-jwt"),
      clientId: z.string().min(1),
      /** PEM private key (RSA), by reference like every secret. */
      privateKeyRef: z.string().min(1),
      keyId: z.string().optional(),
      scopes: z.array(z.string()).default(["okta.users.manage", "okta.users.read"]),
    }),
  ]),
  /** What a departure does to the Okta user; a suspension always suspends. */
  onDeparture: z.enum(["deactivate", "suspend"]).default("deactivate"),
  /** Also revoke the user's OAuth grants to apps (DELETE /users/{id}/grants). */
  revokeGrants: z.boolean().default(true),
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  /** Management API calls per minute, across all runs; below Okta's per-org buckets by default. */
  rateLimitPerMinute: z.number().int().min(1).max(100_000).default(300),
});
export type OktaSettings = z.infer<typeof OktaSettings>;

/** Microsoft Graph with the client-credentials flow (a client secret or a certificate). */
export const EntraSettings = z.object({
  tenantId: z.string().min(1),
  clientId: z.string().min(1),
  graphUrl: z.url({ protocol: /^https?$/ }).default("https://graph.microsoft.com/v1.0").transform((u) => u.replace(/\/+$/, "")),
  /** Defaults to https://login.microsoftonline.com/<tenantId>/oauth2/v2.0/token. */
  tokenUrl: z.url({ protocol: /^https?$/ }).optional(),
  auth: z.discriminatedUnion("type", [
    z.object({ type: z.literal("client-secret"), secretRef: z.string().min(1) }),
    z.object({ type: z.literal("certificate"), privateKeyRef: z.string().min(1), thumbprint: z.string().regex(/^[0-9A-Fa-f]{40}$/, "must be the certificate's SHA-1 thumbprint in hex") }),
  ]),
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  /** Graph calls per minute, across all runs. */
  rateLimitPerMinute: z.number().int().min(1).max(100_000).default(600),
});
export type EntraSettings = z.infer<typeof EntraSettings>;

export const IdpSettings = z.object({ okta: OktaSettings.optional(), entra: EntraSettings.optional() });
export type IdpSettings = z.infer<typeof IdpSettings>;

const signedHook = z.object({
  /** The shared HMAC key, by reference. */
  secretRef: z.string().min(1),
  /** How far a signature's timestamp may be from now (replay window). */
  toleranceSeconds: z.number().int().min(30).max(3600).default(300),
});

/** The vendor webhooks' own authentication. A hook with no settings answers 404 (not configured). */
export const IngressSettings = z.object({
  /** Okta Event Hook: the value Okta sends in the Authorization header. */
  okta: z.object({ secretRef: z.string().min(1) }).optional(),
  /** Our generic HR termination webhook: `X-Revoke-Timestamp` + `X-Revoke-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. */
  hr: signedHook.optional(),
  /** BambooHR: `X-BambooHR-Signature` = hex HMAC-SHA256(private key, body + X-BambooHR-Timestamp). */
  bamboohr: signedHook.optional(),
  /** Microsoft Graph change notifications: the clientState given when subscribing. */
  graph: z
    .object({
      clientStateRef: z.string().min(1),
      /** Public URLs Graph will call; needed to create the subscription. */
      notificationUrl: z.url().optional(),
      lifecycleNotificationUrl: z.url().optional(),
    })
    .optional(),
});
export type IngressSettings = z.infer<typeof IngressSettings>;

/** Where owners are told about their tasks, besides the task list (`revoke tasks`). */
export const NotifySettings = z.object({
  /** A Slack-compatible incoming webhook URL, by reference (it is a credential). */
  slackWebhookRef: z.string().min(1).optional(),
  /** Public base URL of the API, for the links in notifications. */
  publicUrl: z.url().optional(),
  /** The key that signs task links, by reference. Without it (and publicUrl) notifications carry no link. */
  linkSecretRef: z.string().min(1).optional(),
});

/**
 * The mass-departure brake: a bad HR feed must not wipe the company. When more automatic departures
 * (and app revocations) than this arrive within the window, new ones are held until an engineer
 * releases or discards them. Manual offboardings by an engineer pass, recorded as such.
 */
export const BrakeSettings = z.object({
  enabled: z.boolean().default(true),
  windowMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
  /** Trips when the window holds more than this many. */
  maxDepartures: z.number().int().min(1).default(25),
  /** Or more than this percentage of the active people the ledger knows (whichever trips first). */
  maxPercentOfActive: z.number().min(0.1).max(100).optional(),
  /**
   * The percentage never brings the limit below this many: in a small estate (or a ledger still filling
   * up) 5% of a few dozen people is zero or one, and every ordinary leaver would be held.
   */
  minDepartures: z.number().int().min(1).default(3),
});
export type BrakeSettings = z.infer<typeof BrakeSettings>;

/** End dates of accounts that carry none of their own. */
export const ExpirySettings = z.object({
  /** Privileged accounts (flagged in the catalog or by the arrival) end this many days after they start. */
  privilegedDays: z.number().int().min(1).max(3650).default(30),
  /** Owners are reminded this many days before an account ends. */
  reminderDays: z.array(z.number().int().min(1).max(365)).default([7, 1]),
});
export type ExpirySettings = z.infer<typeof ExpirySettings>;

/** Reconciliation: what each app's account list is compared with. */
export const ReconcileSettings = z.object({
  /**
   * The HR roster: a JSON or CSV export. A local path, `s3://bucket/key` on AWS, or an `https://` URL of
   * an HR system's API. Without one the
   * ledger and the IdP are the only sources of who is employed.
   */
  roster: z.string().min(1).optional(),
  /**
   * When the roster is an HR system's API (`https://…`, answering JSON or CSV): the value of the
   * Authorization header it wants ("Bearer …", "Basic …"), by reference like every secret.
   */
  rosterAuthorizationRef: z.string().min(1).optional(),
  /** Start revocations for orphans and revoked-but-active accounts (always through the brake). */
  remediate: z.boolean().default(false),
});
export type ReconcileSettings = z.infer<typeof ReconcileSettings>;

export const Catalog = z
  .object({
    apps: z.array(AppEntry),
    idp: IdpSettings.default({}),
    ingress: IngressSettings.default({}),
    notify: NotifySettings.default({}),
    brake: BrakeSettings.default({ enabled: true, windowMinutes: 60, maxDepartures: 25, minDepartures: 3 }),
    expiry: ExpirySettings.default({ privilegedDays: 30, reminderDays: [7, 1] }),
    reconcile: ReconcileSettings.default({ remediate: false }),
  })
  .superRefine((catalog, ctx) => {
    const seenIds = new Map<string, number>();
    const seenInstances = new Map<string, string>();
    catalog.apps.forEach((app, i) => {
      if (seenIds.has(app.id)) ctx.addIssue({ code: "custom", path: ["apps", i, "id"], message: `duplicates apps[${seenIds.get(app.id)}]` });
      seenIds.set(app.id, i);
      for (const instance of app.okta.appInstanceIds) {
        const other = seenInstances.get(instance);
        if (other) ctx.addIssue({ code: "custom", path: ["apps", i, "okta", "appInstanceIds"], message: `${instance} is already mapped to ${other}` });
        seenInstances.set(instance, app.id);
      }
    });
  });
export type Catalog = z.infer<typeof Catalog>;

/** Parses a catalog; a bad entry fails with a message naming the entry and the field. */
export function parseCatalog(raw: unknown, origin = "app catalog"): Catalog {
  const result = Catalog.safeParse(raw);
  if (result.success) return result.data;
  const apps = (raw as { apps?: Array<{ id?: unknown }> } | null)?.apps;
  const lines = result.error.issues.map((issue) => {
    const [first, index, ...rest] = issue.path;
    if (first === "apps" && typeof index === "number") {
      const id = apps?.[index]?.id;
      const entry = typeof id === "string" ? `apps[${index}] (id "${id}")` : `apps[${index}]`;
      return `${entry}${rest.length ? `.${rest.join(".")}` : ""}: ${issue.message}`;
    }
    return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
  });
  throw new ConfigError(`${origin} is invalid: ${lines.join("; ")}`);
}

export function loadCatalogFile(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`app catalog ${path} cannot be read`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`app catalog ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseCatalog(raw, `app catalog ${path}`);
}

export function appsGrantedByOktaGroup(catalog: Catalog, groupId: string): AppEntry[] {
  return catalog.apps.filter((app) => app.okta.groupIds.includes(groupId));
}

export function appForOktaInstance(catalog: Catalog, instanceId: string): AppEntry | undefined {
  return catalog.apps.find((app) => app.okta.appInstanceIds.includes(instanceId));
}

let cached: { path: string; catalog: Catalog } | undefined;
/** The catalog named by APP_CATALOG_FILE, read once per process (a Lambda container or the local runtime). */
export function catalogFromEnv(): Catalog {
  const path = process.env.APP_CATALOG_FILE;
  if (!path) throw new ConfigError("APP_CATALOG_FILE is not set");
  if (cached?.path !== path) cached = { path, catalog: loadCatalogFile(path) };
  return cached.catalog;
}
