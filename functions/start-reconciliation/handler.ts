import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { logger } from "../lib/observability";
import { startReconcileExecution, startReconciliation } from "./start-reconciliation";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => startReconciliation(event, { startExecution: startReconcileExecution, now: () => new Date() }));
