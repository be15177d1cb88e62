import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks/activities';
import { countWebhookDelivery } from '../../observability/workflow-metrics';
import { failureSummary } from '../../lib/failures';
import type {
  DeliveryOutcome,
  NotificationDeliveryInput,
  NotificationRetry,
} from '../notification-delivery.messages';
import { webhookActivityOptions } from './policies';

/** One event for the subscribers: the same shape a notification-delivery run takes. */
export type PublishInput = NotificationDeliveryInput;

/**
 * Delivers one event to every subscriber in parallel, one activity per subscriber, and reports each
 * outcome instead of throwing: a subscriber that is down must not undo what the flow did.
 */
export async function publishEvent(
  taskQueue: string,
  input: PublishInput,
  retry: NotificationRetry = {},
  options: { localLookup?: boolean } = {},
): Promise<DeliveryOutcome[]> {
  const hooks = proxyActivities<WebhookActivities>({
    ...webhookActivityOptions,
    taskQueue,
    retry: { ...webhookActivityOptions.retry, ...retry },
  });
  const subscribers = input.subscribers ?? (await listSubscribers(hooks, input.type, options.localLookup));
  const outcomes = await Promise.allSettled(
    subscribers.map((subscriber) =>
      hooks.deliverWebhook({
        subscriber,
        sourceKey: input.sourceKey,
        type: input.type,
        data: input.data,
        occurredAt: input.occurredAt,
      }),
    ),
  );
  outcomes.forEach((o, i) =>
    countWebhookDelivery(subscribers[i]!, o.status === 'fulfilled' ? 'delivered' : 'failed'),
  );
  return outcomes.map((o, i): DeliveryOutcome =>
    o.status === 'fulfilled'
      ? {
          subscriber: subscribers[i]!,
          status: 'delivered',
          webhookId: o.value.webhookId,
          attempts: o.value.attempts,
        }
      : { subscriber: subscribers[i]!, status: 'failed', error: failureSummary(o.reason) },
  );
}

/**
 * Which subscribers take this event type is worker configuration, read by a *local* activity on the
 * workflow worker: recorded in history like any activity, but without a round trip through another task
 * queue. Runs recorded before this change looked it up with a regular activity on the webhooks queue;
 * the patch keeps them replaying that way. A caller whose runs were always this way (`localLookup`, decided
 * from the run's input) skips the patch and the marker and search-attribute upsert it records.
 */
async function listSubscribers(
  hooks: Pick<WebhookActivities, 'listSubscribers'>,
  type: string,
  localLookup = false,
): Promise<string[]> {
  if (localLookup || patched('subscribers-from-local-activity')) {
    const local = proxyLocalActivities<Pick<WebhookActivities, 'listSubscribers'>>({
      startToCloseTimeout: '5s',
    });
    return local.listSubscribers({ type });
  }
  return hooks.listSubscribers({ type });
}
