import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../domain/error-types';
import type { NotificationDeliveryInput, NotificationDeliveryResult } from './notification-delivery.messages';
import { publishEvent } from './shared/publish-event';
import { activityQueueFor } from './shared/task-queues';

/**
 * Delivers one event to its subscribers as a run of its own: started by the entity workflows (so a
 * slow subscriber never holds up the next event of a record) and by `POST /v1/runs/{id}/redrive` (the
 * deliveries a completed run gave up on: same body, same webhook-id). Fails when a subscriber still
 * refuses after its retry budget, so the failure is visible and can be redriven.
 */
export async function notificationDelivery(
  input: NotificationDeliveryInput,
): Promise<NotificationDeliveryResult> {
  const deliveries = await publishEvent(activityQueueFor(workflowInfo().taskQueue, 'webhooks'), input);
  const failed = deliveries.filter((d) => d.status === 'failed');
  if (failed.length) {
    throw ApplicationFailure.create({
      type: failed[0]?.error?.type ?? ErrorType.SystemUnavailable,
      nonRetryable: true,
      message: `delivery of ${input.type} failed for ${failed.map((d) => `${d.subscriber}: ${d.error?.message}`).join('; ')}`,
      details: [{ deliveries }],
    });
  }
  return { deliveries };
}
