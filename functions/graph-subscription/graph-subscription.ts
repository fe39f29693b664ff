import { ConfigError } from "../lib/errors";
import { GraphLifecycle, InternalDetailType } from "../lib/events";
import type { GraphClient } from "../lib/graph";
import { logger } from "../lib/observability";
import type { Store } from "../lib/store";

export interface SubscriptionDeps {
  graph: () => GraphClient | undefined;
  settings: () => Promise<{ notificationUrl?: string; lifecycleNotificationUrl?: string; clientState: string } | undefined>;
  store: Store;
  publish: (entries: Array<{ detailType: string; detail: unknown }>) => Promise<unknown>;
  now: () => Date;
}

/** Graph allows users subscriptions of just under 29 days; renew when fewer than 3 remain. */
const LIFETIME_MS = 28 * 86_400_000;
const RENEW_WHEN_LEFT_MS = 3 * 86_400_000;

export type SubscriptionOutcome = { action: "created" | "renewed" | "reauthorized" | "current" | "sweep-requested" | "skipped"; id?: string; expirationDateTime?: string; reason?: string };

/**
 * Keeps the Graph users subscription alive: created on request (`revoke graph subscribe`) or when it
 * is gone, renewed before it expires (scheduled), reauthorized when Graph asks, and a missed-
 * notifications signal triggers a users/delta sweep so nothing that happened meanwhile is lost.
 */
export async function manageGraphSubscription(event: unknown, deps: SubscriptionDeps): Promise<SubscriptionOutcome> {
  const graph = deps.graph();
  const settings = await deps.settings();
  if (!graph || !settings) return { action: "skipped", reason: "Entra ID or Graph ingress is not configured" };
  const now = deps.now();
  const current = (await deps.store.getItem("GRAPH", "SUBSCRIPTION")) as { id?: string; expirationDateTime?: string } | undefined;

  const create = async (): Promise<SubscriptionOutcome> => {
    if (!settings.notificationUrl) throw new ConfigError("ingress.graph.notificationUrl is needed to create a Graph subscription");
    const created = await graph.createSubscription({
      notificationUrl: settings.notificationUrl,
      lifecycleNotificationUrl: settings.lifecycleNotificationUrl,
      clientState: settings.clientState,
      expirationDateTime: new Date(now.getTime() + LIFETIME_MS).toISOString(),
    });
    await deps.store.putItem({ pk: "GRAPH", sk: "SUBSCRIPTION", ...created, createdAt: now.toISOString() });
    logger.info("graph subscription created", { id: created.id });
    return { action: "created", ...created };
  };

  if ((event as { "detail-type"?: string })?.["detail-type"] === InternalDetailType.GraphSubscriptionLifecycle) {
    const lifecycle = GraphLifecycle.parse((event as { detail: unknown }).detail);
    // Only the subscription this pipeline holds is acted on: repeated or stale notifications about an
    // older one, and kinds Graph may add later, must not create subscriptions without end.
    if (!current?.id || lifecycle.subscriptionId !== current.id || !["missed", "reauthorizationRequired", "subscriptionRemoved"].includes(lifecycle.lifecycleEvent)) {
      logger.info("graph lifecycle notification ignored", { lifecycleEvent: lifecycle.lifecycleEvent, ours: lifecycle.subscriptionId === current?.id });
      return { action: "skipped", reason: "not about the current subscription, or not a kind acted on" };
    }
    if (lifecycle.lifecycleEvent === "missed") {
      await deps.publish([{ detailType: InternalDetailType.EntraSweepRequested, detail: { reason: "Graph missed notifications", receivedAt: lifecycle.receivedAt } }]);
      return { action: "sweep-requested" };
    }
    if (lifecycle.lifecycleEvent === "reauthorizationRequired" && current?.id && (await graph.reauthorizeSubscription(current.id))) {
      return { action: "reauthorized", id: current.id };
    }
    // subscriptionRemoved, or a subscription that cannot be reauthorized: start afresh.
    return create();
  }

  if (!current?.id) return create();
  const left = Date.parse(current.expirationDateTime ?? "") - now.getTime();
  if (left > RENEW_WHEN_LEFT_MS) return { action: "current", id: current.id, expirationDateTime: current.expirationDateTime };
  const renewed = await graph.renewSubscription(current.id, new Date(now.getTime() + LIFETIME_MS).toISOString());
  if (!renewed) return create();
  await deps.store.putItem({ pk: "GRAPH", sk: "SUBSCRIPTION", ...renewed, renewedAt: now.toISOString() });
  return { action: "renewed", ...renewed };
}
