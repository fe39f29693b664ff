import { BUS_SOURCE, DetailType, InternalDetailType } from "./events";

/**
 * The event rules of the bus: the CDK app deploys exactly these, and the local runtime's bus evaluates
 * exactly these, so a pattern tested here is the pattern that runs in AWS.
 */
export const FunctionName = {
  Ingest: "ingest",
  OktaHook: "okta-hook",
  OktaLogStream: "okta-logstream",
  HrHook: "hr-hook",
  GraphHook: "graph-hook",
  EntraUserCheck: "entra-user-check",
  GraphSubscription: "graph-subscription",
  RecordArrival: "record-arrival",
  StartOffboarding: "start-offboarding",
  StartDueDepartures: "start-due-departures",
  PlanOffboarding: "plan-offboarding",
  IdpRevoke: "idp-revoke",
  IdpVerify: "idp-verify",
  ScimRevoke: "scim-revoke",
  ScimVerify: "scim-verify",
  NotifyOwner: "notify-owner",
  RemindTaskOwners: "remind-task-owners",
  TaskPage: "task-page",
  RecordAppOutcome: "record-app-outcome",
  CloseRun: "close-run",
  StartReconciliation: "start-reconciliation",
  ReconcilePlan: "reconcile-plan",
  ReconcileApp: "reconcile-app",
  ReconcileReport: "reconcile-report",
  ReconcileRemediate: "reconcile-remediate",
  Mover: "mover",
  ExpireAccounts: "expire-accounts",
  ReleaseHeld: "release-held",
} as const;
export type FunctionName = (typeof FunctionName)[keyof typeof FunctionName];

export interface BusRule {
  name: string;
  description: string;
  pattern: Record<string, unknown>;
  target: FunctionName;
}

export const BUS_RULES: BusRule[] = [
  {
    name: "record-arrivals",
    description: "Every JIT arrival (first SSO or assignment) is recorded so it can be revoked later",
    pattern: { source: [BUS_SOURCE], "detail-type": [DetailType.Arrived] },
    target: FunctionName.RecordArrival,
  },
  {
    name: "start-offboarding",
    description: "A departure starts (at most) one offboarding run for the person; a suspension closes the front door only",
    pattern: { source: [BUS_SOURCE], "detail-type": [DetailType.Departed, DetailType.Suspended, DetailType.DepartureCancelled] },
    target: FunctionName.StartOffboarding,
  },
  {
    name: "revoke-moved-access",
    description: "A person left a group or assignment that granted an app: revoke it if nothing else grants it",
    pattern: { source: [BUS_SOURCE], "detail-type": [DetailType.RoleChanged] },
    target: FunctionName.Mover,
  },
  {
    name: "release-held-requests",
    description: "An engineer released what the mass-departure brake held: start it as it would have started",
    pattern: { source: [BUS_SOURCE], "detail-type": [InternalDetailType.HeldReleased] },
    target: FunctionName.ReleaseHeld,
  },
  {
    name: "check-entra-users",
    description: "A Graph notification names a user; look them up: disabled or deleted is a departure",
    pattern: { source: [BUS_SOURCE], "detail-type": [InternalDetailType.EntraUserChanged, InternalDetailType.EntraSweepRequested] },
    target: FunctionName.EntraUserCheck,
  },
  {
    name: "manage-graph-subscription",
    description: "Graph lifecycle notifications and subscription requests keep the users subscription alive",
    pattern: { source: [BUS_SOURCE], "detail-type": [InternalDetailType.GraphSubscriptionLifecycle, InternalDetailType.GraphSubscriptionRequested] },
    target: FunctionName.GraphSubscription,
  },
];

/** Rule for Okta Log Streaming on the Okta partner event bus (deployed when an Okta source is configured). */
export const OKTA_PARTNER_RULE_PATTERN = {
  source: [{ prefix: "aws.partner/okta.com/" }],
  "detail-type": ["SystemLog"],
};

/** definitionSubstitutions of the offboard state machine: placeholder → the function it names. */
export const OFFBOARD_SUBSTITUTIONS: Record<string, FunctionName> = {
  PlanOffboardingFunctionArn: FunctionName.PlanOffboarding,
  IdpRevokeFunctionArn: FunctionName.IdpRevoke,
  IdpVerifyFunctionArn: FunctionName.IdpVerify,
  ScimRevokeFunctionArn: FunctionName.ScimRevoke,
  ScimVerifyFunctionArn: FunctionName.ScimVerify,
  NotifyOwnerFunctionArn: FunctionName.NotifyOwner,
  RecordAppOutcomeFunctionArn: FunctionName.RecordAppOutcome,
  CloseRunFunctionArn: FunctionName.CloseRun,
};

/** definitionSubstitutions of the reconcile state machine (statemachines/reconcile.asl.json). */
export const RECONCILE_SUBSTITUTIONS: Record<string, FunctionName> = {
  ReconcilePlanFunctionArn: FunctionName.ReconcilePlan,
  ReconcileAppFunctionArn: FunctionName.ReconcileApp,
  ReconcileReportFunctionArn: FunctionName.ReconcileReport,
  ReconcileRemediateFunctionArn: FunctionName.ReconcileRemediate,
};

/** Where each function's entry file lives, for CDK bundling and the local runtime alike. */
export const FUNCTION_ENTRIES: Record<FunctionName, string> = {
  [FunctionName.Ingest]: "functions/ingest/handler.ts",
  [FunctionName.OktaHook]: "functions/okta-hook/handler.ts",
  [FunctionName.OktaLogStream]: "functions/okta-logstream/handler.ts",
  [FunctionName.HrHook]: "functions/hr-hook/handler.ts",
  [FunctionName.GraphHook]: "functions/graph-hook/handler.ts",
  [FunctionName.EntraUserCheck]: "functions/entra-user-check/handler.ts",
  [FunctionName.GraphSubscription]: "functions/graph-subscription/handler.ts",
  [FunctionName.RecordArrival]: "functions/record-arrival/handler.ts",
  [FunctionName.StartOffboarding]: "functions/start-offboarding/handler.ts",
  [FunctionName.StartDueDepartures]: "functions/start-due-departures/handler.ts",
  [FunctionName.PlanOffboarding]: "functions/plan-offboarding/handler.ts",
  [FunctionName.IdpRevoke]: "functions/idp-revoke/handler.ts",
  [FunctionName.IdpVerify]: "functions/idp-verify/handler.ts",
  [FunctionName.ScimRevoke]: "functions/scim-revoke/handler.ts",
  [FunctionName.ScimVerify]: "functions/scim-verify/handler.ts",
  [FunctionName.NotifyOwner]: "functions/notify-owner/handler.ts",
  [FunctionName.RemindTaskOwners]: "functions/remind-task-owners/handler.ts",
  [FunctionName.TaskPage]: "functions/task-page/handler.ts",
  [FunctionName.RecordAppOutcome]: "functions/record-app-outcome/handler.ts",
  [FunctionName.CloseRun]: "functions/close-run/handler.ts",
  [FunctionName.StartReconciliation]: "functions/start-reconciliation/handler.ts",
  [FunctionName.ReconcilePlan]: "functions/reconcile-plan/handler.ts",
  [FunctionName.ReconcileApp]: "functions/reconcile-app/handler.ts",
  [FunctionName.ReconcileReport]: "functions/reconcile-report/handler.ts",
  [FunctionName.ReconcileRemediate]: "functions/reconcile-remediate/handler.ts",
  [FunctionName.Mover]: "functions/mover/handler.ts",
  [FunctionName.ExpireAccounts]: "functions/expire-accounts/handler.ts",
  [FunctionName.ReleaseHeld]: "functions/release-held/handler.ts",
};


/** The HTTP API: the same routes on API Gateway and on the local runtime. */
export const HTTP_ROUTES: Array<{ method: "GET" | "POST"; path: string; target: FunctionName; auth: "iam" | "own" }> = [
  { method: "POST", path: "/events", target: FunctionName.Ingest, auth: "iam" },
  { method: "GET", path: "/hooks/okta", target: FunctionName.OktaHook, auth: "own" },
  { method: "POST", path: "/hooks/okta", target: FunctionName.OktaHook, auth: "own" },
  { method: "POST", path: "/hooks/hr", target: FunctionName.HrHook, auth: "own" },
  { method: "POST", path: "/hooks/bamboohr", target: FunctionName.HrHook, auth: "own" },
  { method: "GET", path: "/tasks/{taskId}", target: FunctionName.TaskPage, auth: "own" },
  { method: "POST", path: "/tasks/{taskId}", target: FunctionName.TaskPage, auth: "own" },
  { method: "GET", path: "/hooks/graph", target: FunctionName.GraphHook, auth: "own" },
  { method: "POST", path: "/hooks/graph", target: FunctionName.GraphHook, auth: "own" },
  { method: "GET", path: "/hooks/graph/lifecycle", target: FunctionName.GraphHook, auth: "own" },
  { method: "POST", path: "/hooks/graph/lifecycle", target: FunctionName.GraphHook, auth: "own" },
];

/**
 * Scheduled work: EventBridge Scheduler on AWS and the local runtime's timers run exactly these.
 * `atStartup: false`: the local runtime does not run it when it starts (reconciliation lists every
 * account of every app; a restart is not the moment). It still runs on its period, as on AWS.
 */
export const SCHEDULED_WORK: Array<{ name: string; description: string; target: FunctionName; everyMinutes: number; input: Record<string, unknown>; atStartup?: false }> = [
  { name: "start-due-departures", description: "Puts departures whose effective day has come back on the bus", target: FunctionName.StartDueDepartures, everyMinutes: 5, input: {} },
  { name: "entra-delta-sweep", description: "users/delta: disabled or deleted users that no notification announced", target: FunctionName.EntraUserCheck, everyMinutes: 60, input: { action: "sweep" } },
  { name: "remind-task-owners", description: "Reminds owners of tasks past half their time (the reminder is the task's heartbeat)", target: FunctionName.RemindTaskOwners, everyMinutes: 15, input: {} },
  { name: "renew-graph-subscription", description: "Keeps the Graph users subscription from expiring", target: FunctionName.GraphSubscription, everyMinutes: 12 * 60, input: { action: "renew" } },
  { name: "expire-accounts", description: "Revokes time-boxed accounts whose end date has come; reminds owners 7 and 1 days before", target: FunctionName.ExpireAccounts, everyMinutes: 15, input: {} },
  { name: "daily-reconciliation", description: "Starts the day's reconciliation: every app's accounts against the HR roster, the IdP and the ledger", target: FunctionName.StartReconciliation, everyMinutes: 24 * 60, input: {}, atStartup: false },
];

/** Does a request path match a route path with `{param}` segments? */
export function routeMatches(routePath: string, path: string): boolean {
  const a = routePath.split("/");
  const b = path.split("/");
  return a.length === b.length && a.every((seg, i) => (seg.startsWith("{") && seg.endsWith("}") ? b[i] !== "" : seg === b[i]));
}
