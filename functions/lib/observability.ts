import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/** One logger per process. Handlers log ids and outcomes, never tokens or whole payloads. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "revoke" });

/** CloudWatch metrics (EMF) for dashboards and alarms; disabled in the local runtime and the tests. */
export const metrics = new Metrics({ namespace: "RevocationPipeline", serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "revoke" });
