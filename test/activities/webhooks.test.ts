import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../src/activities/webhooks/activities';
import type { DeliveryInput, WebhookActivities } from '../../src/activities/webhooks/activities';
import { webhookIdFor } from '../../src/lib/standard-webhooks';
import type { WebhookSubscriber } from '../../src/config';
import { ErrorType } from '../../src/domain/error-types';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { createWebhookConsumerSimulator, DEV_WEBHOOK_SECRET } from '../../src/simulators/webhook-consumer';
import { failureOf, runInActivity } from '../support/activity';

/**
 * deliverWebhook with the real axios client against the webhook consumer simulator, which verifies
 * Standard Webhooks signatures itself and deduplicates by webhook-id. Only the Temporal activity
 * context is the test one.
 */

const consumer = createWebhookConsumerSimulator();
let running: RunningSimulator;
let subscribers: WebhookSubscriber[];
let hooks: WebhookActivities;

const inActivity = runInActivity;

/** One event with its own type, so fault rules and record filters never see another test's deliveries. */
function newEvent(label: string, subscriber = 'consumer'): DeliveryInput {
  const id = randomUUID().slice(0, 8);
  return {
    subscriber,
    sourceKey: `customer-creation/act-hook-${label}-${id}`,
    type: `test.${label}.${id}`,
    data: { reference: `act-hook-${label}-${id}`, name: 'Ada Lovelace', city: 'Zürich' },
    occurredAt: '2026-11-25T08:00:00.000Z',
  };
}

beforeAll(async () => {
  running = await consumer.start({ port: 0 });
  const url = `${running.url}/hooks/default`;
  subscribers = [
    { name: 'consumer', url, secret: DEV_WEBHOOK_SECRET },
    { name: 'orders-only', url, secret: DEV_WEBHOOK_SECRET, events: ['sap.salesorder.created'] },
    { name: 'all-listed', url, secret: DEV_WEBHOOK_SECRET, events: [] },
    // Signs with another key: the consumer answers 401.
    { name: 'wrong-secret', url, secret: 'whsec_c29tZS1vdGhlci1zZWNyZXQtMDEyMzQ1Njc4OQ==' },
    { name: 'nowhere', url: `${running.url}/hooks/unknown-endpoint`, secret: DEV_WEBHOOK_SECRET },
  ];
  hooks = createWebhookActivities({ subscribers, timeoutMs: 3000 });
});
afterAll(async () => {
  await running?.stop();
});

describe('deliverWebhook against the webhook consumer simulator', () => {
  it('delivers a signed event that the consumer verifies, with the webhook-id derived from source and type', async () => {
    const event = newEvent('ok');
    const expectedId = webhookIdFor(event.sourceKey, event.type);

    const result = await inActivity(1, () => hooks.deliverWebhook(event));

    expect(result).toEqual({ subscriber: 'consumer', webhookId: expectedId, status: 200, attempts: 1 });
    const delivery = await consumer.waitFor((d) => d.type === event.type);
    expect(delivery).toMatchObject({
      endpoint: 'default',
      webhookId: expectedId,
      verified: true,
      duplicate: false,
      status: 200,
    });
    expect(delivery.rejection).toBeUndefined();
    expect(JSON.parse(delivery.rawBody)).toEqual({
      type: event.type,
      timestamp: event.occurredAt,
      data: event.data,
    });
  });

  it('the same input delivered twice carries the same webhook-id; the consumer records the second as a duplicate', async () => {
    const event = newEvent('twice');

    const first = await inActivity(1, () => hooks.deliverWebhook(event));
    const second = await inActivity(2, () => hooks.deliverWebhook(event));

    expect(second.webhookId).toBe(first.webhookId);
    expect(second).toMatchObject({ status: 200, attempts: 2 });
    const seen = consumer.deliveries({ type: event.type });
    expect(seen.map((d) => ({ id: d.webhookId, verified: d.verified, duplicate: d.duplicate }))).toEqual([
      { id: first.webhookId, verified: true, duplicate: false },
      { id: first.webhookId, verified: true, duplicate: true },
    ]);
    expect(consumer.deliveries({ type: event.type, accepted: true })).toHaveLength(1);
  });

  it('after a faulted delivery, the retry of the same webhook-id is accepted as the first effect', async () => {
    const event = newEvent('after-fault');
    consumer.core.faults.failNext('server-error', 1, { operation: event.type });

    await failureOf(inActivity(1, () => hooks.deliverWebhook(event)));
    const result = await inActivity(2, () => hooks.deliverWebhook(event));

    expect(result).toMatchObject({ status: 200, attempts: 2 });
    const seen = consumer.deliveries({ type: event.type });
    expect(seen.map((d) => [d.status, d.duplicate, d.webhookId])).toEqual([
      [500, false, result.webhookId],
      [200, false, result.webhookId],
    ]);
    expect(consumer.deliveries({ type: event.type, accepted: true })).toHaveLength(1);
  });

  it.each([
    {
      kind: 'server-error',
      params: undefined,
      type: ErrorType.SystemUnavailable,
      nonRetryable: false,
      status: 500,
      nextRetryDelay: undefined,
    },
    {
      kind: 'bad-gateway',
      params: undefined,
      type: ErrorType.SystemUnavailable,
      nonRetryable: false,
      status: 502,
      nextRetryDelay: undefined,
    },
    {
      kind: 'service-unavailable',
      params: { retryAfterSeconds: 7 },
      type: ErrorType.RateLimited,
      nonRetryable: false,
      status: 503,
      nextRetryDelay: 7000,
    },
    {
      kind: 'service-unavailable',
      params: undefined,
      type: ErrorType.RateLimited,
      nonRetryable: false,
      status: 503,
      nextRetryDelay: undefined,
    },
    {
      kind: 'rate-limit',
      params: undefined,
      type: ErrorType.RateLimited,
      nonRetryable: false,
      status: 429,
      nextRetryDelay: 1000,
    },
    {
      kind: 'rate-limit',
      params: { retryAfterSeconds: 30 },
      type: ErrorType.RateLimited,
      nonRetryable: false,
      status: 429,
      nextRetryDelay: 30_000,
    },
    {
      kind: 'gone',
      params: undefined,
      type: ErrorType.WebhookSubscriberGone,
      nonRetryable: true,
      status: 410,
      nextRetryDelay: undefined,
    },
    {
      kind: 'bad-request',
      params: undefined,
      type: ErrorType.WebhookRejected,
      nonRetryable: true,
      status: 400,
      nextRetryDelay: undefined,
    },
  ])(
    'a consumer answering $kind (HTTP $status, $params) is $type, nonRetryable $nonRetryable, nextRetryDelay $nextRetryDelay',
    async ({ kind, params, type, nonRetryable, status, nextRetryDelay }) => {
      const event = newEvent(kind);
      consumer.core.faults.failNext(kind, 1, { operation: event.type }, params);

      const failure = await failureOf(inActivity(1, () => hooks.deliverWebhook(event)));

      expect(failure.type).toBe(type);
      expect(failure.nonRetryable).toBe(nonRetryable);
      expect(failure.nextRetryDelay).toBe(nextRetryDelay);
      expect(failure.message).toContain(`webhook ${event.type} to consumer`);
      expect(failure.message).toContain(String(status));
      expect(failure.details).toEqual([
        { subscriber: 'consumer', webhookId: webhookIdFor(event.sourceKey, event.type), status },
      ]);
      expect(consumer.deliveries({ type: event.type })).toMatchObject([
        { status, fault: kind, verified: true },
      ]);
    },
  );

  it('a consumer slower than the client timeout is a retryable Timeout', async () => {
    const impatient = createWebhookActivities({ subscribers, timeoutMs: 200 });
    const event = newEvent('timeout');
    consumer.core.faults.failNext('timeout', 1, { operation: event.type }, { delayMs: 800 });

    const failure = await failureOf(inActivity(1, () => impatient.deliverWebhook(event)));

    expect(failure.type).toBe(ErrorType.Timeout);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(`webhook ${event.type} to consumer failed: timeout of 200ms exceeded`);
    expect(failure.details).toEqual([
      { subscriber: 'consumer', webhookId: webhookIdFor(event.sourceKey, event.type) },
    ]);
    // The consumer records the late answer (504) once its delay is over; it is not an effect.
    const late = await consumer.waitFor((d) => d.type === event.type);
    expect(late).toMatchObject({ status: 504, fault: 'timeout' });
  });

  it('a consumer that drops the connection is a retryable SystemUnavailable', async () => {
    consumer.core.faults.setOutage(true);
    try {
      const event = newEvent('outage');
      const failure = await failureOf(inActivity(1, () => hooks.deliverWebhook(event)));

      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(
        new RegExp(`^webhook ${event.type.replace(/\./g, '\\.')} to consumer failed: `),
      );
    } finally {
      consumer.core.faults.setOutage(false);
    }
  });

  it('a signature the consumer cannot verify (HTTP 401) is a non-retryable WebhookRejected', async () => {
    const event = newEvent('bad-signature', 'wrong-secret');

    const failure = await failureOf(inActivity(1, () => hooks.deliverWebhook(event)));

    expect(failure.type).toBe(ErrorType.WebhookRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('rejected the delivery with HTTP 401');
    expect(consumer.deliveries({ type: event.type })).toMatchObject([
      { verified: false, status: 401, rejection: 'no-matching-signature' },
    ]);
  });

  it('an endpoint the consumer does not know (HTTP 404) is a non-retryable WebhookRejected', async () => {
    const failure = await failureOf(inActivity(1, () => hooks.deliverWebhook(newEvent('404', 'nowhere'))));

    expect(failure.type).toBe(ErrorType.WebhookRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('HTTP 404');
  });

  it('an unknown subscriber name is a non-retryable Misconfigured failure, and nothing is sent', async () => {
    const event = newEvent('unknown', 'no-such-subscriber');

    const failure = await failureOf(inActivity(1, () => hooks.deliverWebhook(event)));

    expect(failure.type).toBe(ErrorType.Misconfigured);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('"no-such-subscriber"');
    expect(consumer.deliveries({ type: event.type })).toHaveLength(0);
  });
});

describe('listSubscribers', () => {
  it('lists the subscribers that asked for the event type, and those that asked for none (all types)', async () => {
    expect(await hooks.listSubscribers({ type: 'customer.created' })).toEqual([
      'consumer',
      'all-listed',
      'wrong-secret',
      'nowhere',
    ]);
    expect(await hooks.listSubscribers({ type: 'sap.salesorder.created' })).toEqual([
      'consumer',
      'orders-only',
      'all-listed',
      'wrong-secret',
      'nowhere',
    ]);
  });
});
