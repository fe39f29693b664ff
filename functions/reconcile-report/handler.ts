import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { logger, metrics } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { writeReconciliationReport } from "./reconcile-report";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event: unknown) => writeReconciliationReport(event, { store: storeFromEnv(), now: () => new Date() }));
