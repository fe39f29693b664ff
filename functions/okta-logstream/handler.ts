import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { publishCanonical } from "../lib/aws";
import { catalogFromEnv } from "../lib/catalog";
import { logger } from "../lib/observability";
import { acceptLogStream } from "./okta-logstream";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => acceptLogStream(event, { catalog: catalogFromEnv(), publish: publishCanonical }));
