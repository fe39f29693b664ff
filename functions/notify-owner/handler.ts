import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { catalogFromEnv } from "../lib/catalog";
import { notifierFor } from "../lib/notifier";
import { resolveSecret } from "../lib/secrets";
import { taskLinkQuery } from "../lib/tasks";
import { logger } from "../lib/observability";
import { storeFromEnv } from "../lib/store";
import { notifyOwner } from "./notify-owner";

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event: unknown) => {
    const { notify } = catalogFromEnv();
    const linkFor = async (taskId: string, deadline: string) =>
      notify.publicUrl && notify.linkSecretRef ? `${notify.publicUrl.replace(/\/+$/, "")}/tasks/${taskId}?${taskLinkQuery(await resolveSecret(notify.linkSecretRef), taskId, deadline)}` : undefined;
    return notifyOwner(event, { store: storeFromEnv(), notify: notifierFor(catalogFromEnv()), now: () => new Date(), linkFor });
  });
