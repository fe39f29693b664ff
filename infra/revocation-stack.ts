import { join, resolve } from "node:path";
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { HttpApi, HttpMethod, CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, type IMetric, Metric, SingleValueWidget, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { Archive, EventBus, Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Architecture, type IFunction, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { LogLevel as BundlingLogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Schedule, ScheduleExpression, ScheduleTargetInput } from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { SubscriptionFilter } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type { Catalog } from "../functions/lib/catalog";
import { BUS_SOURCE } from "../functions/lib/events";
import { s3Location } from "../functions/lib/roster";
import { BUS_RULES, FUNCTION_ENTRIES, FunctionName, HTTP_ROUTES, OFFBOARD_SUBSTITUTIONS, OKTA_PARTNER_RULE_PATTERN, RECONCILE_SUBSTITUTIONS, SCHEDULED_WORK } from "../functions/lib/rules";
import { TABLE_KEYS } from "../functions/lib/store";
import { LAMBDA_BUNDLING } from "./bundling";

const ROOT = resolve(import.meta.dirname, "..");

export interface RevocationStackProps extends StackProps {
  catalog: Catalog;
  /** The catalog file, bundled into the functions that read it (same file the local runtime uses). */
  catalogFile: string;
  alertEmail?: string;
  /** The Okta partner event bus (aws.partner/okta.com/<org>/<name>) when Okta Log Streaming is set up. */
  oktaPartnerEventBusName?: string;
}

/**
 * The whole pipeline on AWS, from the same sources as the local runtime: the handlers in functions/,
 * the ASL in statemachines/, and the bus rules in functions/lib/rules.ts.
 */
export class RevocationStack extends Stack {
  readonly table: Table;
  readonly bus: EventBus;
  readonly stateMachine: StateMachine;
  readonly reconcileStateMachine: StateMachine;
  readonly functions: Record<FunctionName, NodejsFunction>;
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: RevocationStackProps) {
    super(scope, id, props);

    const key = new Key(this, "DataKey", {
      description: "Encrypts the revocation ledger, its queues and its alerts",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Table (not TableV2): a customer-managed key on TableV2 needs a region-bound stack, and this
    // stack must synthesize offline without one.
    this.table = new Table(this, "Ledger", {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Rate-limit counters expire on their own; nothing else in the ledger carries this attribute.
      timeToLiveAttribute: "expiresAt",
    });

    // EventBridge (rule dead-letter queues) and SNS (email dead-letter queue, encrypted topics) write
    // into resources encrypted with this key; without these statements their dead letters would be lost.
    for (const service of ["events.amazonaws.com", "sns.amazonaws.com"]) {
      key.addToResourcePolicy(
        new PolicyStatement({
          principals: [new ServicePrincipal(service)],
          actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
          resources: ["*"], // in a key policy, "*" is this key
          conditions: { StringEquals: { "aws:SourceAccount": this.account } },
        }),
      );
    }

    this.bus = new EventBus(this, "Bus", { description: "Canonical identity events: arrivals, departures, outcomes" });
    new Archive(this, "BusArchive", {
      sourceEventBus: this.bus,
      eventPattern: { source: [BUS_SOURCE] },
      retention: Duration.days(365),
      description: "Every canonical event, for replay after an outage or a fix",
    });

    const alerts = new Topic(this, "Alerts", { displayName: "Revocation pipeline alerts", masterKey: key, enforceSSL: true });
    if (props.alertEmail) alerts.addSubscription(new EmailSubscription(props.alertEmail));
    // Each alarm counts something that must not go unseen (an event not processed, access not revoked):
    // it fires on the first non-zero value and tells the alert topic.
    const alarmOnAny = (id: string, alarmDescription: string, metric: IMetric) =>
      new Alarm(this, id, {
        alarmDescription,
        metric,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(alerts));
    const pipelineMetric = (metricName: string, statistic = "Sum", period = Duration.minutes(5)) =>
      new Metric({ namespace: "RevocationPipeline", metricName, dimensionsMap: { service: "revoke" }, statistic, period });

    // Owners' task emails: one topic, one email subscription per owner filtered on the `to` attribute,
    // so each owner receives only their own tasks.
    const tasksTopic = new Topic(this, "TaskNotifications", { displayName: "Access removal tasks", masterKey: key, enforceSSL: true });

    const catalogFile = resolve(ROOT, props.catalogFile);
    const dlqs: Queue[] = [];
    const deadLetterQueue = (id: string) => {
      const queue = new Queue(this, id, { encryption: QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14) });
      dlqs.push(queue);
      alarmOnAny(
        `${id}-alarm`,
        `${id} holds events that were not processed (a departure or an arrival may be waiting); inspect and redrive`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      );
      return queue;
    };
    // A task email SNS could not deliver is kept (and alarmed), never dropped: the owner must hear of it.
    const undeliveredEmail = deadLetterQueue("task-email-undelivered");
    const owners = new Set(props.catalog.apps.filter((a) => a.mode === "manual").flatMap((a) => [a.owner, a.backupOwner ?? a.owner]).filter((o) => /^[^@\s]+@[^@\s]+$/.test(o)).map((o) => o.toLowerCase()));
    for (const owner of owners) {
      tasksTopic.addSubscription(new EmailSubscription(owner, { filterPolicy: { to: SubscriptionFilter.stringFilter({ allowlist: [owner] }) }, deadLetterQueue: undeliveredEmail }));
    }

    // Functions the bus invokes asynchronously: an error after Lambda's own retries would otherwise be
    // dropped, because a rule target's DLQ only receives events that could not be delivered at all.
    const asyncInvoked = new Set<FunctionName>([...BUS_RULES.map((rule) => rule.target), FunctionName.OktaLogStream]);
    const fn = (name: FunctionName, extraEnv: Record<string, string> = {}, timeoutSeconds = 30) => {
      const logGroup = new LogGroup(this, `${name}-logs`, { retention: RetentionDays.SIX_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
      return new NodejsFunction(this, name, {
        entry: join(ROOT, FUNCTION_ENTRIES[name]),
        runtime: Runtime.NODEJS_24_X,
        architecture: Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(timeoutSeconds),
        tracing: Tracing.ACTIVE,
        logGroup,
        // The on-failure record keeps the event and the error that stopped it: a dead letter with its reason.
        ...(asyncInvoked.has(name) ? { onFailure: new SqsDestination(deadLetterQueue(`${name}-failed`)), retryAttempts: 2 } : {}),
        environment: {
          TABLE_NAME: this.table.tableName,
          EVENT_BUS_NAME: this.bus.eventBusName,
          APP_CATALOG_FILE: "/var/task/apps.json",
          POWERTOOLS_SERVICE_NAME: "revoke",
          POWERTOOLS_LOG_LEVEL: "INFO",
          NODE_OPTIONS: "--enable-source-maps",
          ...extraEnv,
        },
        bundling: {
          logLevel: BundlingLogLevel.ERROR,
          // Shared with `npm run bench`, which reports the sizes of exactly these bundles.
          ...LAMBDA_BUNDLING,
          mainFields: [...LAMBDA_BUNDLING.mainFields],
          externalModules: [...LAMBDA_BUNDLING.externalModules],
          format: OutputFormat.ESM,
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            // The catalog travels inside the bundle, validated by the same schema at start-up.
            afterBundling: (_in: string, outputDir: string) => [`cp ${JSON.stringify(catalogFile)} ${JSON.stringify(join(outputDir, "apps.json"))}`],
          },
        },
      });
    };

    const functions = {} as Record<FunctionName, NodejsFunction>;
    for (const name of Object.values(FunctionName)) {
      if (([FunctionName.StartOffboarding, FunctionName.RecordArrival, FunctionName.RemindTaskOwners, FunctionName.TaskPage, FunctionName.Mover, FunctionName.ExpireAccounts, FunctionName.ReleaseHeld] as FunctionName[]).includes(name)) continue;
      if (([FunctionName.ReconcileApp, FunctionName.ReconcileRemediate, FunctionName.StartReconciliation] as FunctionName[]).includes(name)) continue; // below, with the reconcile state machine
      functions[name] = fn(name, name === FunctionName.NotifyOwner ? { TASK_TOPIC_ARN: tasksTopic.topicArn } : {});
    }

    const logGroup = new LogGroup(this, "OffboardLogs", { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new StateMachine(this, "Offboard", {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(join(ROOT, "statemachines/offboard.asl.json")),
      definitionSubstitutions: Object.fromEntries(Object.entries(OFFBOARD_SUBSTITUTIONS).map(([placeholder, name]) => [placeholder, functions[name].functionArn])),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    for (const name of Object.values(OFFBOARD_SUBSTITUTIONS)) functions[name].grantInvoke(this.stateMachine);

    const starterEnv = { STATE_MACHINE_ARN: this.stateMachine.stateMachineArn };
    functions[FunctionName.RemindTaskOwners] = fn(FunctionName.RemindTaskOwners, { TASK_TOPIC_ARN: tasksTopic.topicArn });
    functions[FunctionName.TaskPage] = fn(FunctionName.TaskPage);
    this.stateMachine.grantTaskResponse(functions[FunctionName.RemindTaskOwners]);
    tasksTopic.grantPublish(functions[FunctionName.RemindTaskOwners]);
    tasksTopic.grantPublish(functions[FunctionName.NotifyOwner]);
    this.stateMachine.grantTaskResponse(functions[FunctionName.TaskPage]);
    functions[FunctionName.StartOffboarding] = fn(FunctionName.StartOffboarding, starterEnv);
    functions[FunctionName.RecordArrival] = fn(FunctionName.RecordArrival, starterEnv);
    // Movers and expiries start app-scoped offboard runs; expiry reminders go to owners like task emails.
    functions[FunctionName.Mover] = fn(FunctionName.Mover, starterEnv);
    functions[FunctionName.ExpireAccounts] = fn(FunctionName.ExpireAccounts, { ...starterEnv, TASK_TOPIC_ARN: tasksTopic.topicArn }, 300);
    tasksTopic.grantPublish(functions[FunctionName.ExpireAccounts]);
    // What the brake held starts when an engineer releases it.
    functions[FunctionName.ReleaseHeld] = fn(FunctionName.ReleaseHeld, starterEnv);

    // Reconciliation: its own state machine from its own ASL file, started daily by the scheduler (through
    // start-reconciliation) and by `revoke reconcile`. Listing a large app under its rate limit takes time.
    functions[FunctionName.ReconcileApp] = fn(FunctionName.ReconcileApp, {}, 900);
    functions[FunctionName.ReconcileRemediate] = fn(FunctionName.ReconcileRemediate, starterEnv, 300);
    this.reconcileStateMachine = new StateMachine(this, "Reconcile", {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(join(ROOT, "statemachines/reconcile.asl.json")),
      definitionSubstitutions: Object.fromEntries(Object.entries(RECONCILE_SUBSTITUTIONS).map(([placeholder, name]) => [placeholder, functions[name].functionArn])),
      tracingEnabled: true,
      logs: { destination: new LogGroup(this, "ReconcileLogs", { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN }), level: LogLevel.ALL, includeExecutionData: true },
    });
    for (const name of Object.values(RECONCILE_SUBSTITUTIONS)) {
      functions[name].grantInvoke(this.reconcileStateMachine);
      this.table.grantReadWriteData(functions[name]);
    }
    functions[FunctionName.StartReconciliation] = fn(FunctionName.StartReconciliation, { RECONCILE_STATE_MACHINE_ARN: this.reconcileStateMachine.stateMachineArn });
    this.reconcileStateMachine.grantStartExecution(functions[FunctionName.StartReconciliation]);
    // Remediation starts app-scoped offboard runs (through the brake, which may announce itself on the bus).
    this.stateMachine.grantStartExecution(functions[FunctionName.ReconcileRemediate]);
    this.bus.grantPutEventsTo(functions[FunctionName.ReconcileRemediate]);
    // The HR roster export: read-only, that one object, by the two functions that read it.
    const roster = s3Location(props.catalog.reconcile.roster);
    if (roster) {
      for (const name of [FunctionName.ReconcilePlan, FunctionName.ReconcileApp]) {
        functions[name].addToRolePolicy(new PolicyStatement({ actions: ["s3:GetObject"], resources: [`arn:${this.partition}:s3:::${roster.bucket}/${roster.key}`] }));
      }
    }
    alarmOnAny(
      "ReconcileFailedAlarm",
      "A reconciliation run failed (an unreadable roster or catalog): orphaned accounts are not being looked for",
      this.reconcileStateMachine.metricFailed({ period: Duration.minutes(5) }),
    );
    // What reconciliation finds is access that outlived its reason: someone must see it (remediation is off by default).
    for (const [id, metricName, what] of [
      ["ReconcileOrphansAlarm", "ReconcileOrphans", "active accounts of people who have departed or are disabled at the IdP (orphans)"],
      ["ReconcileRegressionAlarm", "ReconcileRevokedButActive", "accounts the ledger says REVOKED that are active again in their app (a regression)"],
    ] as const) {
      alarmOnAny(id, `The last reconciliation found ${what}; see revoke reconcile or the stored report`, pipelineMetric(metricName, "Maximum", Duration.hours(1)));
    }
    this.functions = functions;

    // Least privilege, per function: what each one reads and writes, nothing more.
    const readers = [FunctionName.PlanOffboarding];
    const writers = [
      FunctionName.RecordArrival,
      FunctionName.StartOffboarding,
      FunctionName.StartDueDepartures,
      FunctionName.ScimRevoke,
      // These count their calls under the downstream's rate limit in the table.
      FunctionName.ScimVerify,
      FunctionName.IdpRevoke,
      FunctionName.IdpVerify,
      FunctionName.RecordAppOutcome,
      FunctionName.CloseRun,
      FunctionName.EntraUserCheck,
      FunctionName.GraphSubscription,
      FunctionName.NotifyOwner,
      FunctionName.RemindTaskOwners,
      FunctionName.TaskPage,
      FunctionName.Mover,
      FunctionName.ExpireAccounts,
      FunctionName.ReleaseHeld,
    ];
    for (const name of readers) this.table.grantReadData(functions[name]);
    for (const name of writers) this.table.grantReadWriteData(functions[name]);
    const publishers = [
      FunctionName.Ingest,
      FunctionName.OktaHook,
      FunctionName.HrHook,
      FunctionName.GraphHook,
      FunctionName.RecordArrival,
      FunctionName.CloseRun,
      FunctionName.StartDueDepartures,
      FunctionName.EntraUserCheck,
      FunctionName.GraphSubscription,
      // These apply the mass-departure brake, which announces itself on the bus when it engages.
      FunctionName.StartOffboarding,
      FunctionName.Mover,
      FunctionName.ExpireAccounts,
    ];
    for (const name of [...publishers, FunctionName.OktaLogStream]) this.bus.grantPutEventsTo(functions[name]);

    // Scheduled work, the same list the local runtime runs on its timers.
    for (const work of SCHEDULED_WORK) {
      new Schedule(this, `schedule-${work.name}`, {
        description: work.description,
        schedule: ScheduleExpression.rate(Duration.minutes(work.everyMinutes)),
        target: new LambdaInvoke(functions[work.target], { retryAttempts: 3, input: ScheduleTargetInput.fromObject(work.input) }),
      });
    }
    for (const name of [FunctionName.StartOffboarding, FunctionName.RecordArrival, FunctionName.Mover, FunctionName.ExpireAccounts, FunctionName.ReleaseHeld]) this.stateMachine.grantStartExecution(functions[name]);
    // Each credential is readable only by the functions that use it.
    const grantSecret = (id: string, ref: string | undefined, users: FunctionName[]) => {
      if (!ref?.startsWith("arn:aws:secretsmanager:")) return;
      const secret = Secret.fromSecretCompleteArn(this, id, ref);
      for (const name of users) secret.grantRead(functions[name]);
    };
    for (const app of props.catalog.apps) grantSecret(`secret-${app.id}`, app.scim?.tokenRef ?? app.scim?.oauth?.clientSecretRef, [FunctionName.ScimRevoke, FunctionName.ScimVerify, FunctionName.ReconcileApp]);
    const { okta, entra } = props.catalog.idp;
    // Reconciliation reads each person's status at the IdPs.
    const idpFunctions = [FunctionName.IdpRevoke, FunctionName.IdpVerify, FunctionName.ReconcileApp];
    // The mover asks Okta what still grants an app before revoking it.
    if (okta) grantSecret("secret-okta", okta.auth.type === "api-token" ? okta.auth.tokenRef : okta.auth.privateKeyRef, [...idpFunctions, FunctionName.Mover]);
    if (entra) grantSecret("secret-entra", entra.auth.type === "client-secret" ? entra.auth.secretRef : entra.auth.privateKeyRef, [...idpFunctions, FunctionName.EntraUserCheck, FunctionName.GraphSubscription]);
    const ingress = props.catalog.ingress;
    grantSecret("secret-okta-hook", ingress.okta?.secretRef, [FunctionName.OktaHook]);
    grantSecret("secret-hr-hook", ingress.hr?.secretRef, [FunctionName.HrHook]);
    grantSecret("secret-bamboohr-hook", ingress.bamboohr?.secretRef, [FunctionName.HrHook]);
    grantSecret("secret-graph-client-state", ingress.graph?.clientStateRef, [FunctionName.GraphHook, FunctionName.GraphSubscription]);
    grantSecret("secret-notify-webhook", props.catalog.notify.slackWebhookRef, [FunctionName.NotifyOwner, FunctionName.RemindTaskOwners, FunctionName.ExpireAccounts]);
    grantSecret("secret-task-links", props.catalog.notify.linkSecretRef, [FunctionName.NotifyOwner, FunctionName.TaskPage]);
    grantSecret("secret-hr-roster", props.catalog.reconcile.rosterAuthorizationRef, [FunctionName.ReconcilePlan, FunctionName.ReconcileApp]);

    // One rule per entry of BUS_RULES, each target with retries and a dead-letter queue that keeps the reason.
    // Okta Log Streaming: a rule on the partner bus, with the same pattern the tests run against the real event.
    if (props.oktaPartnerEventBusName) {
      new Rule(this, "rule-okta-log-streaming", {
        eventBus: EventBus.fromEventBusName(this, "OktaPartnerBus", props.oktaPartnerEventBusName),
        description: "Okta System Log events streamed to EventBridge",
        eventPattern: OKTA_PARTNER_RULE_PATTERN as never,
        targets: [new LambdaFunction(functions[FunctionName.OktaLogStream], { deadLetterQueue: deadLetterQueue("okta-log-streaming-undelivered"), retryAttempts: 8, maxEventAge: Duration.hours(6) })],
      });
    }
    for (const rule of BUS_RULES) {
      new Rule(this, `rule-${rule.name}`, {
        eventBus: this.bus,
        description: rule.description,
        eventPattern: rule.pattern as never,
        targets: [new LambdaFunction(functions[rule.target], { deadLetterQueue: deadLetterQueue(`${rule.name}-undelivered`), retryAttempts: 8, maxEventAge: Duration.hours(6) })],
      });
    }

    alarmOnAny("NeedsAttentionAlarm", "An offboarding ended NEEDS_ATTENTION: an account or an IdP session may still be open", pipelineMetric("OffboardingsNeedingAttention"));

    alarmOnAny(
      "BrakeEngagedAlarm",
      "The mass-departure brake engaged: departures are held PENDING_CONFIRMATION until an engineer runs `revoke brake release` (or discard)",
      pipelineMetric("BrakeEngaged"),
    );

    alarmOnAny(
      "TasksPastDeadlineAlarm",
      "A human task is past its deadline and its run still waits: an account of someone who left may still be open",
      pipelineMetric("TasksPastDeadline", "Maximum"),
    );

    // One page for the on-call engineer: departures, outcomes, how long access survived, what is stuck.
    new Dashboard(this, "Dashboard", {
      dashboardName: `${this.stackName}-offboarding`,
      widgets: [
        [
          new GraphWidget({ title: "Offboardings", left: [pipelineMetric("OffboardingsCompleted"), pipelineMetric("OffboardingsNeedingAttention")], width: 12 }),
          new GraphWidget({ title: "Access survived the departure (ms)", left: [pipelineMetric("AccessSurvivedDepartureMs", "p50"), pipelineMetric("AccessSurvivedDepartureMs", "p99")], width: 12 }),
        ],
        [
          new GraphWidget({ title: "Executions", left: [this.stateMachine.metricSucceeded(), this.stateMachine.metricFailed(), this.stateMachine.metricStarted()], width: 12 }),
          new GraphWidget({ title: "Ingress", left: [pipelineMetric("AcceptedEvents"), pipelineMetric("IgnoredEvents"), pipelineMetric("RejectedPayloads"), pipelineMetric("AuthenticationFailures")], width: 12 }),
        ],
        [
          new GraphWidget({ title: "Dead letters waiting", left: dlqs.map((q) => q.metricApproximateNumberOfMessagesVisible()), width: 12 }),
          new SingleValueWidget({ title: "Tasks past deadline", metrics: [pipelineMetric("TasksPastDeadline", "Maximum")], width: 12 }),
        ],
      ],
    });

    alarmOnAny("OffboardFailedAlarm", "An offboarding ended NEEDS_ATTENTION or failed: some access was not revoked and verified", this.stateMachine.metricFailed({ period: Duration.minutes(5) }));

    // POST /events for operators' tooling, signed with SigV4; the vendor webhooks authenticate themselves.
    const accessLogs = new LogGroup(this, "ApiAccessLogs", { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new HttpApi(this, "Api", { description: "Revocation pipeline ingress", createDefaultStage: true });
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of HTTP_ROUTES) {
      if (!integrations.has(route.target)) integrations.set(route.target, new HttpLambdaIntegration(route.target, functions[route.target] as IFunction));
      const [added] = this.api.addRoutes({
        path: route.path,
        methods: [route.method === "GET" ? HttpMethod.GET : HttpMethod.POST],
        integration: integrations.get(route.target)!,
        ...(route.auth === "iam" ? { authorizer: new HttpIamAuthorizer() } : {}),
      });
      if (route.auth === "own") {
        Validations.of(added!).acknowledge({
          id: "AwsSolutions-APIG4",
          reason: "A vendor webhook (Okta, BambooHR, HR, Graph) or an owner's task link: the caller cannot sign with SigV4, so the function authenticates every request itself (shared secret, clientState, HMAC with a timestamp window, or a signed expiring link; constant-time) before acting on it.",
        });
      }
    }
    const stage = this.api.defaultStage!.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = { throttlingBurstLimit: 100, throttlingRateLimit: 50 };
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({ requestId: "$context.requestId", ip: "$context.identity.sourceIp", route: "$context.routeKey", status: "$context.status", latency: "$context.responseLatency" }),
    };

    this.acknowledgeNagFindings(functions, dlqs, asyncInvoked);

    new CfnOutput(this, "TableName", { value: this.table.tableName, description: "REVOKE_TABLE_NAME for `revoke --aws`" });
    new CfnOutput(this, "EventBusName", { value: this.bus.eventBusName, description: "REVOKE_EVENT_BUS_NAME for `revoke --aws`" });
    new CfnOutput(this, "StateMachineArn", { value: this.stateMachine.stateMachineArn, description: "REVOKE_STATE_MACHINE_ARN for `revoke --aws`" });
    new CfnOutput(this, "ReconcileStateMachineArn", { value: this.reconcileStateMachine.stateMachineArn, description: "REVOKE_RECONCILE_STATE_MACHINE_ARN for `revoke --aws reconcile`" });
    new CfnOutput(this, "ApiUrl", { value: this.api.apiEndpoint });
  }

  /** Every cdk-nag finding this stack accepts, each with the reason a reviewer would want. */
  private acknowledgeNagFindings(functions: Record<FunctionName, NodejsFunction>, dlqs: Queue[], asyncInvoked: Set<FunctionName>) {
    const stack = Validations.of(this);
    stack.acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason: "The Lambda basic execution role only allows writing the function's own CloudWatch Logs; CDK attaches it to every function role.",
    });
    stack.acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs delivery actions used by Step Functions logging do not support resource-level permissions.",
    });
    for (const action of ["kms:GenerateDataKey*", "kms:ReEncrypt*"]) {
      stack.acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: "Granted by CDK's grant methods on the one customer-managed key of this stack (table, queues, topic); the resource is that key, not a wildcard.",
      });
    }
    for (const name of Object.values(RECONCILE_SUBSTITUTIONS)) {
      stack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(functions[name].node.defaultChild as never)}.Arn>:*]`,
        reason: `The reconcile state machine may invoke any version or alias of ${name}, one of its own four task functions; no other function.`,
      });
    }
    for (const name of Object.values(OFFBOARD_SUBSTITUTIONS)) {
      const logicalId = this.getLogicalId(functions[name].node.defaultChild as never);
      stack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: `The state machine may invoke any version or alias of ${name}, one of its own five task functions; no other function.`,
      });
    }
    for (const work of SCHEDULED_WORK) {
      stack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(functions[work.target].node.defaultChild as never)}.Arn>:*]`,
        reason: `EventBridge Scheduler's role may invoke any version of ${work.target}, the function it schedules; no other.`,
      });
    }
    for (const name of Object.values(FunctionName)) {
      Validations.of(functions[name]).acknowledge({
        id: "Serverless-LambdaDLQ",
        reason: asyncInvoked.has(name)
          ? "Failed asynchronous invocations go to an SQS on-failure destination, which records the error with the event (a dead-letter queue would keep the event only)."
          : SCHEDULED_WORK.some((w) => w.target === name)
            ? "Invoked by EventBridge Scheduler with retries, and again on the next period; what it did not do stays in the table for the next run."
            : "Invoked synchronously (by Step Functions, which retries and catches, or by API Gateway, which answers the caller); a dead-letter queue only applies to asynchronous invocations.",
      });
    }
    for (const queue of dlqs) {
      Validations.of(queue).acknowledge({ id: "AwsSolutions-SQS3", reason: "This queue is itself a dead-letter queue." });
      Validations.of(queue).acknowledge({ id: "Serverless-SQSRedrivePolicy", reason: "This queue is itself a dead-letter queue; its messages are inspected and redriven by an operator." });
    }
  }
}
