import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/** One logger per process. Handlers log ids and outcomes, never tokens or whole payloads. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "revoke" });

/**
 * Powertools warns on every invocation that published no metric (even with metrics disabled). A sweep
 * that found nothing to do, or a duplicate event, has nothing to count: that is not worth a warning.
 */
const metricsLogger = {
  debug: (...content: unknown[]) => logger.debug(String(content[0])),
  info: (...content: unknown[]) => logger.info(String(content[0])),
  warn: (...content: unknown[]) => (String(content[0]).startsWith("No application metrics to publish") ? logger.debug(String(content[0])) : logger.warn(String(content[0]))),
  error: (...content: unknown[]) => logger.error(String(content[0])),
};

/** CloudWatch metrics (EMF) for dashboards and alarms; disabled in the local runtime and the tests. */
export const metrics = new Metrics({ namespace: "RevocationPipeline", serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "revoke", logger: metricsLogger });
