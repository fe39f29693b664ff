import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { writeReconciliationReport } from "./reconcile-report";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => writeReconciliationReport(event, { store: storeFromEnv(), now: () => new Date() }));
