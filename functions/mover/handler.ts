import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { publish } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger, metrics } from "../lib/observability";
import { RateLimiter } from "../lib/rate-limit";
import { storeFromEnv } from "../lib/store";
import { startOffboardExecution } from "../start-offboarding/start-offboarding";
import { handleRoleChange } from "./mover";
import { oktaGrantCheck } from "./remaining-grants";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event: unknown) => {
    const store = storeFromEnv();
    const catalog = catalogFromEnv();
    return handleRoleChange(event, {
      store,
      catalog,
      publish,
      startExecution: startOffboardExecution,
      now: () => new Date(),
      remainingGrants: oktaGrantCheck(catalog, new RateLimiter(store)),
    });
  });
