import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import type { WebhookSubscriber } from '../../config';
import { ErrorType } from '../../domain/error-types';
import { retryAfterMs } from '../../lib/retry-after';
import { signWebhook, webhookIdFor } from '../../lib/standard-webhooks';

export interface WebhookDeps {
  subscribers: WebhookSubscriber[];
  timeoutMs: number;
  http?: AxiosInstance;
  now?: () => number;
}

export interface DeliveryInput {
  subscriber: string;
  /** What makes the event unique (e.g. the workflow id); with `type` it fixes the webhook-id. */
  sourceKey: string;
  type: string;
  data: Record<string, unknown>;
  /** When the event happened (ISO); fixed by the workflow so retries send the same body. */
  occurredAt: string;
}

export interface DeliveryResult {
  subscriber: string;
  webhookId: string;
  status: number;
  attempts: number;
}

/** Only the subscribers that asked for this event type (none listed = all types). */
export function subscribersFor(subscribers: WebhookSubscriber[], type: string): string[] {
  return subscribers.filter((s) => !s.events?.length || s.events.includes(type)).map((s) => s.name);
}

/**
 * Outbound webhooks per Standard Webhooks. One activity call delivers one event to one subscriber, so
 * Temporal retries each subscriber on its own schedule. Classification follows the spec: 2xx is done;
 * 410 means the endpoint is gone; 429 and 503 wait for Retry-After; other 4xx (but 408/409) are
 * permanent; everything else is retried with backoff.
 */
export function createWebhookActivities(deps: WebhookDeps) {
  const http = deps.http ?? axios.create({ timeout: deps.timeoutMs, maxRedirects: 0 });
  const now = deps.now ?? Date.now;
  const byName = new Map(deps.subscribers.map((s) => [s.name, s]));

  return {
    async listSubscribers(input: { type: string }): Promise<string[]> {
      return subscribersFor(deps.subscribers, input.type);
    },

    async deliverWebhook(input: DeliveryInput): Promise<DeliveryResult> {
      const subscriber = byName.get(input.subscriber);
      if (!subscriber) {
        throw ApplicationFailure.create({
          type: ErrorType.Misconfigured,
          nonRetryable: true,
          message: `no webhook subscriber named "${input.subscriber}" is configured (WEBHOOK_SUBSCRIBERS)`,
        });
      }
      const webhookId = webhookIdFor(input.sourceKey, input.type);
      const body = JSON.stringify({ type: input.type, timestamp: input.occurredAt, data: input.data });
      const timestamp = Math.floor(now() / 1000);
      const where = `webhook ${input.type} to ${subscriber.name}`;
      let status: number;
      let retryAfter: string | undefined;
      try {
        const res = await http.post(subscriber.url, body, {
          headers: {
            'content-type': 'application/json',
            'webhook-id': webhookId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(subscriber.secret, webhookId, timestamp, body),
          },
          validateStatus: () => true,
          responseType: 'text',
        });
        status = res.status;
        retryAfter = res.headers['retry-after'] as string | undefined;
      } catch (err) {
        throw ApplicationFailure.create({
          type:
            (err as { code?: string }).code === 'ECONNABORTED'
              ? ErrorType.Timeout
              : ErrorType.SystemUnavailable,
          message: `${where} failed: ${(err as Error).message}`,
          details: [{ subscriber: subscriber.name, webhookId }],
        });
      }
      const details = [{ subscriber: subscriber.name, webhookId, status }];
      if (status >= 200 && status < 300) {
        return { subscriber: subscriber.name, webhookId, status, attempts: activityInfo().attempt };
      }
      if (status === 410) {
        throw ApplicationFailure.create({
          type: ErrorType.WebhookSubscriberGone,
          nonRetryable: true,
          message: `${where}: the subscriber answered 410 Gone; remove or fix it in WEBHOOK_SUBSCRIBERS`,
          details,
        });
      }
      if (status === 429 || status === 503) {
        const delay = retryAfterMs(retryAfter, now());
        throw ApplicationFailure.create({
          type: ErrorType.RateLimited,
          message: `${where}: HTTP ${status}${delay === undefined ? '' : `, retry after ${delay} ms`}`,
          details,
          ...(delay === undefined ? {} : { nextRetryDelay: Math.max(delay, 100) }),
        });
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 409) {
        throw ApplicationFailure.create({
          type: ErrorType.WebhookRejected,
          nonRetryable: true,
          message: `${where}: the subscriber rejected the delivery with HTTP ${status}`,
          details,
        });
      }
      throw ApplicationFailure.create({
        type: ErrorType.SystemUnavailable,
        message: `${where}: HTTP ${status}`,
        details,
      });
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
