import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { sfnClient } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { notifierFor } from "../lib/notifier";
import { logger, metrics } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { remindTaskOwners, sfnHeartbeat } from "./remind-task-owners";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(() => remindTaskOwners({ store: storeFromEnv(), notify: notifierFor(catalogFromEnv()), heartbeat: sfnHeartbeat((c) => sfnClient().send(c)), now: () => new Date() }));
