import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { loadCatalogFile } from "../functions/lib/catalog";
import { RevocationStack } from "./revocation-stack";

/**
 * `npx cdk synth` / `npx cdk deploy`. Configuration comes from CDK context: the app catalog file
 * (validated by the same schema as the local runtime) and an optional alert email.
 */
export function buildApp(app = new App()): { app: App; stack: RevocationStack } {
  const catalogFile = String(app.node.tryGetContext("revoke:catalogFile") ?? "config/apps.example.json");
  const alertEmail = app.node.tryGetContext("revoke:alertEmail") as string | undefined;
  const oktaPartnerEventBusName = app.node.tryGetContext("revoke:oktaPartnerEventBusName") as string | undefined;
  const stack = new RevocationStack(app, "RevocationPipeline", { catalog: loadCatalogFile(catalogFile), catalogFile, alertEmail, oktaPartnerEventBusName });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
