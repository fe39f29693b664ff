import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { BUS_RULES, FunctionName, OFFBOARD_SUBSTITUTIONS, RECONCILE_SUBSTITUTIONS, SCHEDULED_WORK } from "../../functions/lib/rules";
import { buildApp } from "../../infra/app";

const ROOT = join(import.meta.dirname, "../..");
let template: Template;

beforeAll(() => {
  const { app, stack } = buildApp(new App({ outdir: join(ROOT, "cdk.out/test"), context: { "revoke:catalogFile": "config/apps.example.json" } }));
  app.synth(); // cdk-nag (AwsSolutions + Serverless) runs here: an unacknowledged finding fails synthesis
  template = Template.fromStack(stack);
});

describe("the CDK app", () => {
  it("fails synthesis on a cdk-nag finding nobody acknowledged", () => {
    const app = new App({ outdir: join(ROOT, "cdk.out/test-nag") });
    const { stack } = buildApp(app);
    new Queue(stack, "UnencryptedQueueWithoutDlq", { enforceSSL: false });
    expect(() => app.synth()).toThrow(/UnencryptedQueueWithoutDlq[\s\S]*AwsSolutions-SQS4/);
  });

  it("the ledger table: keys, point-in-time recovery, customer-managed KMS, deletion protection", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: Match.anyValue() },
      DeletionProtectionEnabled: true,
    });
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    // EventBridge and SNS may use the key to write dead letters into the encrypted queues.
    const keyPolicy = JSON.stringify(Object.values(template.findResources("AWS::KMS::Key"))[0]!.Properties.KeyPolicy);
    for (const service of ["events.amazonaws.com", "sns.amazonaws.com"]) expect(keyPolicy).toContain(service);
  });

  it("one arm64 Node.js function per handler, traced, with the table, bus and bundled catalog in its environment and no secret", () => {
    const fns = template.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs24.x" } });
    expect(Object.keys(fns)).toHaveLength(Object.values(FunctionName).length);
    for (const fn of Object.values(fns)) {
      const p = fn.Properties as { Architectures: string[]; TracingConfig: { Mode: string }; Environment: { Variables: Record<string, unknown> }; LoggingConfig: unknown };
      expect(p.Architectures).toEqual(["arm64"]);
      expect(p.TracingConfig.Mode).toBe("Active");
      expect(p.Environment.Variables).toMatchObject({ TABLE_NAME: expect.anything(), EVENT_BUS_NAME: expect.anything(), APP_CATALOG_FILE: "/var/task/apps.json" });
      expect(Object.keys(p.Environment.Variables).filter((k) => /TOKEN|SECRET|PASSWORD/i.test(k))).toEqual([]);
      expect(p.LoggingConfig).toBeDefined();
    }
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: Match.anyValue() });
  });

  it("every function's bundle, as synthesis built it, is under 300 KB of code", () => {
    // A single `import { z } from "zod"` pulls all of zod's locales into a bundle (about 300 KB more):
    // this catches that, and any other dependency that stops tree-shaking, where it would ship.
    const fns = template.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs24.x" } });
    for (const fn of Object.values(fns)) {
      const assetPath = `asset.${(fn.Properties as { Code: { S3Key: string } }).Code.S3Key.replace(/\.zip$/, "")}`;
      const size = statSync(join(ROOT, "cdk.out/test", assetPath, "index.mjs")).size;
      expect(size, assetPath).toBeLessThan(300 * 1024);
    }
  });

  it("the offboard state machine comes from the ASL file, with every placeholder substituted, logging ALL and tracing", () => {
    const machines = template.findResources("AWS::StepFunctions::StateMachine");
    const [machine] = Object.values(machines);
    const p = machine!.Properties as { DefinitionSubstitutions: Record<string, unknown>; DefinitionS3Location: unknown; LoggingConfiguration: { Level: string; IncludeExecutionData: boolean }; TracingConfiguration: { Enabled: boolean }; StateMachineType: string };
    expect(new Set(Object.keys(p.DefinitionSubstitutions))).toEqual(new Set(Object.keys(OFFBOARD_SUBSTITUTIONS)));
    expect(p.LoggingConfiguration).toMatchObject({ Level: "ALL", IncludeExecutionData: true });
    expect(p.TracingConfiguration.Enabled).toBe(true);
    expect(p.StateMachineType).toBe("STANDARD");
    // DefinitionBody.fromFile ships the file itself as an asset, placeholders and all.
    expect(p.DefinitionS3Location).toMatchObject({ Bucket: expect.anything(), Key: expect.stringMatching(/\.json$/) });
  });

  it("every Task in every ASL file resolves to a deployed function the state machine's role may invoke", () => {
    const asl = readFileSync(join(ROOT, "statemachines/offboard.asl.json"), "utf8");
    const placeholders = new Set([...asl.matchAll(/"\$\{(\w+)\}"/g)].map((m) => m[1]!));
    const machine = Object.values(template.findResources("AWS::StepFunctions::StateMachine"))[0]!;
    const substitutions = (machine.Properties as { DefinitionSubstitutions: Record<string, { "Fn::GetAtt": [string, string] }> }).DefinitionSubstitutions;
    const roleId = (machine.Properties as { RoleArn: { "Fn::GetAtt": [string] } }).RoleArn["Fn::GetAtt"][0];
    const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter((pol) => JSON.stringify(pol.Properties.Roles).includes(roleId));
    const invokable = JSON.stringify(policies);
    for (const placeholder of placeholders) {
      const target = substitutions[placeholder]!["Fn::GetAtt"][0];
      expect(Object.keys(template.findResources("AWS::Lambda::Function"))).toContain(target);
      expect(invokable).toContain(target);
    }
    expect(invokable).toContain("lambda:InvokeFunction");
  });

  it("a rule per bus rule, with the same pattern the local bus evaluates, retries and a dead-letter queue", () => {
    for (const rule of BUS_RULES) {
      template.hasResourceProperties("AWS::Events::Rule", {
        EventPattern: rule.pattern,
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 } })],
      });
    }
    template.resourceCountIs("AWS::Events::Archive", 1);
  });

  it("bus-invoked functions send failed events, with the error, to an on-failure queue; every queue is encrypted and alarmed", () => {
    template.resourcePropertiesCountIs("AWS::Lambda::EventInvokeConfig", { DestinationConfig: { OnFailure: { Destination: Match.anyValue() } } }, new Set([...BUS_RULES.map((r) => r.target), "okta-logstream"]).size);
    const queues = template.findResources("AWS::SQS::Queue");
    for (const q of Object.values(queues)) expect((q.Properties as { KmsMasterKeyId?: unknown }).KmsMasterKeyId).toBeDefined();
    const alarms = template.findResources("AWS::CloudWatch::Alarm");
    // One per queue, one on failed offboardings, one on NEEDS_ATTENTION outcomes, one on tasks past deadline,
    // for reconciliation: failed runs, orphans found, revoked accounts found active again; and the brake engaging.
    expect(Object.keys(alarms).length).toBe(Object.keys(queues).length + 7);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "BrakeEngaged", Namespace: "RevocationPipeline" });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "TasksPastDeadline" });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "OffboardingsNeedingAttention", Namespace: "RevocationPipeline" });
  });

  it("POST /events is IAM-authorized, the vendor hooks authenticate themselves, and the stage is throttled and logged", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "POST /events", AuthorizationType: "AWS_IAM" });
    for (const key of ["GET /hooks/okta", "POST /hooks/okta", "POST /hooks/hr", "POST /hooks/bamboohr", "GET /hooks/graph", "POST /hooks/graph", "POST /hooks/graph/lifecycle"]) {
      template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: key, AuthorizationType: "NONE" });
    }
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
    });
  });

  it("every function that puts events on the bus may, and the webhooks may not touch the table", () => {
    const policies = Object.values(template.findResources("AWS::IAM::Policy"));
    const policyOf = (role: string) => JSON.stringify(policies.find((p) => JSON.stringify(p.Properties.Roles).includes(`${role}ServiceRole`))?.Properties.PolicyDocument ?? {});
    for (const role of ["ingest", "oktahook", "hrhook", "graphhook", "recordarrival", "closerun", "startduedepartures", "entrausercheck", "graphsubscription"]) expect(policyOf(role), role).toContain("events:PutEvents");
    for (const role of ["ingest", "oktahook", "hrhook", "graphhook"]) expect(policyOf(role), role).not.toContain("dynamodb:");
    template.resourceCountIs("AWS::Scheduler::Schedule", SCHEDULED_WORK.length);
    // Owners of manual apps get their task emails through SNS, each filtered to their own address.
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "payroll-admin@example.com", FilterPolicy: { to: ["payroll-admin@example.com"] } });
  });

  it("only the functions that write have write access to the table", () => {
    const policies = JSON.stringify(template.findResources("AWS::IAM::Policy"));
    expect(policies).toContain("dynamodb:PutItem");
    const planPolicy = Object.values(template.findResources("AWS::IAM::Policy")).find((p) => JSON.stringify(p.Properties.Roles).includes("planoffboardingServiceRole"))!;
    expect(JSON.stringify(planPolicy.Properties.PolicyDocument)).not.toContain("dynamodb:PutItem");
    expect(JSON.stringify(planPolicy.Properties.PolicyDocument)).toContain("dynamodb:Query");
  });
});

describe("Okta Log Streaming", () => {
  it("with a partner bus configured, a rule on it with the tested pattern feeds the log-stream function", () => {
    const { app, stack } = buildApp(new App({ outdir: join(ROOT, "cdk.out/test-okta"), context: { "revoke:oktaPartnerEventBusName": "aws.partner/okta.com/exampleorg/examplesecuritylake" } }));
    app.synth();
    Template.fromStack(stack).hasResourceProperties("AWS::Events::Rule", {
      EventBusName: "aws.partner/okta.com/exampleorg/examplesecuritylake",
      EventPattern: { source: [{ prefix: "aws.partner/okta.com/" }], "detail-type": ["SystemLog"] },
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("oktalogstream"), "Arn"] } })],
    });
  });
});

describe("secrets on AWS", () => {
  it("each Secrets Manager credential is readable by the functions that use it and by no other", () => {
    const dir = mkdtempSync(join(tmpdir(), "revoke-cat-"));
    const scimArn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:crm-scim-AbCdEf";
    const oktaArn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:okta-token-AbCdEf";
    const hrApiArn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:hr-api-AbCdEf";
    const file = join(dir, "apps.json");
    writeFileSync(
      file,
      JSON.stringify({
        idp: { okta: { orgUrl: "https://example.okta.com", auth: { type: "api-token", tokenRef: oktaArn } } },
        reconcile: { roster: "s3://hr-exports/people/roster.csv", rosterAuthorizationRef: hrApiArn },
        apps: [{ id: "crm", name: "CRM", mode: "scim", owner: "o@example.com", scim: { baseUrl: "https://crm.example.com/scim/v2", tokenRef: scimArn } }],
      }),
    );
    const { app, stack } = buildApp(new App({ outdir: join(ROOT, "cdk.out/test-secrets"), context: { "revoke:catalogFile": file } }));
    app.synth();
    const policies = Template.fromStack(stack).findResources("AWS::IAM::Policy");
    const readersOf = (arn: string) =>
      Object.values(policies)
        .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(arn))
        .map((p) => JSON.stringify(p.Properties.Roles).match(/"([a-z]+(?:[A-Z][a-z]+)*)ServiceRole/)?.[1])
        .sort();
    // Reconciliation lists each app's accounts and reads each person's status at the IdP.
    expect(readersOf(scimArn)).toEqual(["reconcileapp", "scimrevoke", "scimverify"]);
    // The mover asks Okta what still grants an app before it revokes it.
    expect(readersOf(oktaArn)).toEqual(["idprevoke", "idpverify", "mover", "reconcileapp"]);
    expect(readersOf(hrApiArn)).toEqual(["reconcileapp", "reconcileplan"]);
    // The HR roster: that one object, read-only, by the two reconciliation functions that read it.
    const rosterObject = "s3:::hr-exports/people/roster.csv";
    expect(readersOf(rosterObject)).toEqual(["reconcileapp", "reconcileplan"]);
    const rosterStatements = Object.values(policies).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> }).Statement).filter((st) => JSON.stringify(st.Resource).includes(rosterObject));
    for (const st of rosterStatements) expect(st.Action).toBe("s3:GetObject");
  });
});

describe("reconciliation on AWS", () => {
  const machines = () => Object.entries(template.findResources("AWS::StepFunctions::StateMachine"));
  const reconcileMachine = () => machines().find(([id]) => id.startsWith("Reconcile"))!;
  const policyOf = (role: string) =>
    JSON.stringify(Object.values(template.findResources("AWS::IAM::Policy")).filter((p) => JSON.stringify(p.Properties.Roles).includes(`${role}ServiceRole`)).map((p) => p.Properties.PolicyDocument));

  it("the reconcile state machine comes from its own ASL file, every placeholder substituted, logging ALL and tracing", () => {
    const [, machine] = reconcileMachine();
    const p = machine.Properties as { DefinitionSubstitutions: Record<string, { "Fn::GetAtt": [string, string] }>; DefinitionS3Location: unknown; LoggingConfiguration: { Level: string }; TracingConfiguration: { Enabled: boolean }; StateMachineType: string; RoleArn: { "Fn::GetAtt": [string] } };
    const asl = readFileSync(join(ROOT, "statemachines/reconcile.asl.json"), "utf8");
    const placeholders = new Set([...asl.matchAll(/"\$\{(\w+)\}"/g)].map((m) => m[1]!));
    expect(placeholders).toEqual(new Set(Object.keys(RECONCILE_SUBSTITUTIONS)));
    expect(new Set(Object.keys(p.DefinitionSubstitutions))).toEqual(placeholders);
    expect(p).toMatchObject({ StateMachineType: "STANDARD", LoggingConfiguration: { Level: "ALL" }, TracingConfiguration: { Enabled: true }, DefinitionS3Location: { Key: expect.stringMatching(/\.json$/) } });
    // Its role may invoke its four functions, and only through the substitutions.
    const roleId = p.RoleArn["Fn::GetAtt"][0];
    const invokable = JSON.stringify(Object.values(template.findResources("AWS::IAM::Policy")).filter((pol) => JSON.stringify(pol.Properties.Roles).includes(roleId)));
    for (const placeholder of placeholders) expect(invokable).toContain(p.DefinitionSubstitutions[placeholder]!["Fn::GetAtt"][0]);
  });

  it("runs daily from EventBridge Scheduler through start-reconciliation, which may start it and nothing else", () => {
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: Match.stringLikeRegexp("rate\\((1 day|1440 minutes)\\)"),
      Target: { Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("startreconciliation"), "Arn"] }, Input: "{}" },
    });
    const [machineId] = reconcileMachine();
    const starter = policyOf("startreconciliation");
    expect(starter).toContain("states:StartExecution");
    expect(starter).toContain(machineId);
    expect(starter).not.toContain("dynamodb:");
    template.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ RECONCILE_STATE_MACHINE_ARN: { Ref: machineId } }) } });
  });

  it("listing an app may take up to 15 minutes; remediation may start offboard runs and announce the brake; the report functions write the table", () => {
    const fns = Object.entries(template.findResources("AWS::Lambda::Function"));
    const timeoutOf = (name: string) => (fns.find(([id]) => id.startsWith(name.replaceAll("-", "")))![1].Properties as { Timeout: number }).Timeout;
    expect(timeoutOf("reconcile-app")).toBe(900);
    const [offboardId] = machines().find(([id]) => id.startsWith("Offboard"))!;
    const remediate = policyOf("reconcileremediate");
    expect(remediate).toContain("states:StartExecution");
    expect(remediate).toContain(offboardId);
    expect(remediate).toContain("events:PutEvents");
    for (const role of ["reconcileplan", "reconcileapp", "reconcilereport", "reconcileremediate"]) expect(policyOf(role), role).toContain("dynamodb:PutItem");
    template.hasOutput("ReconcileStateMachineArn", {});
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "ExecutionsFailed", Dimensions: [{ Name: "StateMachineArn", Value: { Ref: reconcileMachine()[0] } }] });
    for (const metric of ["ReconcileOrphans", "ReconcileRevokedButActive"]) template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: metric, Namespace: "RevocationPipeline", Threshold: 0 });
  });
});
