import { Logger } from "@aws-lambda-powertools/logger";

/** One logger per process. Handlers log ids and outcomes, never tokens or whole payloads. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "revoke" });
