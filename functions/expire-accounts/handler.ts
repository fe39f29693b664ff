import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { notifierFor } from "../lib/notifier";
import { logger, metrics } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { startOffboardExecution } from "../start-offboarding/start-offboarding";
import { expireAccounts } from "./expire-accounts";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(() => {
    const catalog = catalogFromEnv();
    return expireAccounts({ store: storeFromEnv(), catalog, publish, startExecution: startOffboardExecution, now: () => new Date(), notify: notifierFor(catalog) });
  });
