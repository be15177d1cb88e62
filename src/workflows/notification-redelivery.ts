import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../domain/error-types';
import type {
  NotificationRedeliveryInput,
  NotificationRedeliveryResult,
} from './notification-redelivery.messages';
import { publishEvent } from './publish-event';
import { activityQueueFor } from './task-queues';

/**
 * Redrives the deliveries a completed run gave up on (`POST /v1/runs/{id}/redrive`). Same body, same
 * webhook-id as the original attempt. Fails when a subscriber still refuses, so the operator sees it.
 */
export async function notificationRedelivery(
  input: NotificationRedeliveryInput,
): Promise<NotificationRedeliveryResult> {
  const deliveries = await publishEvent(activityQueueFor(workflowInfo().taskQueue, 'webhooks'), input);
  const failed = deliveries.filter((d) => d.status === 'failed');
  if (failed.length) {
    throw ApplicationFailure.create({
      type: failed[0]?.error?.type ?? ErrorType.SystemUnavailable,
      nonRetryable: true,
      message: `redelivery of ${input.type} failed for ${failed.map((d) => `${d.subscriber}: ${d.error?.message}`).join('; ')}`,
      details: [{ deliveries }],
    });
  }
  return { deliveries };
}
