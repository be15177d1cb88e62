import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { AxiosInstance } from 'axios';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createWebhookActivities, subscribersFor } from '../../src/activities/webhooks/activities';
import type { DeliveryInput } from '../../src/activities/webhooks/activities';
import { webhookIdFor } from '../../src/lib/standard-webhooks';
import type { WebhookSubscriber } from '../../src/config';
import { ErrorType } from '../../src/domain/error-types';

/**
 * deliverWebhook's classification of every answer, with an injected HTTP client that answers what the
 * test says: no network. The consumer simulator test (test/activities/webhooks.test.ts) covers the wire.
 */

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const subscriber: WebhookSubscriber = { name: 'crm', url: 'https://hooks.example.com/in', secret };
const now = Date.parse('2026-11-25T10:00:00Z');

const event: DeliveryInput = {
  subscriber: 'crm',
  sourceKey: 'customer-creation/crm-42',
  type: 'customer.created',
  data: { reference: 'crm-42', name: 'Ada Lovelace' },
  occurredAt: '2026-11-25T09:59:58.000Z',
};

interface Sent {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** An axios stand-in: records each post and answers with `answer` (or rejects with it). */
function fakeHttp(
  answer: { status: number; headers?: Record<string, string | undefined> } | { error: Error },
) {
  const sent: Sent[] = [];
  const http = {
    post: (url: string, body: string, config: { headers: Record<string, string> }) => {
      sent.push({ url, body, headers: config.headers });
      return 'error' in answer
        ? Promise.reject(answer.error)
        : Promise.resolve({ status: answer.status, headers: answer.headers ?? {}, data: '' });
    },
  } as unknown as AxiosInstance;
  return { http, sent };
}

const logger = new DefaultLogger(
  (process.env.TEST_LOG_LEVEL ?? 'ERROR') as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR',
);

function deliver(http: AxiosInstance, input: DeliveryInput = event, attempt = 1, clock = () => now) {
  const activities = createWebhookActivities({
    subscribers: [subscriber],
    timeoutMs: 1000,
    http,
    now: clock,
  });
  return new MockActivityEnvironment({ attempt }, { logger }).run(() => activities.deliverWebhook(input));
}

async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const webhookId = webhookIdFor(event.sourceKey, event.type);

describe('deliverWebhook request', () => {
  it('posts the event with Standard Webhooks headers that an independent verifier accepts', async () => {
    const realNow = Date.now();
    const { http, sent } = fakeHttp({ status: 200 });

    const result = await deliver(http, event, 3, () => realNow);

    expect(result).toEqual({ subscriber: 'crm', webhookId, status: 200, attempts: 3 });
    expect(sent).toHaveLength(1);
    const [req] = sent;
    expect(req!.url).toBe(subscriber.url);
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(realNow / 1000)),
    });
    expect(JSON.parse(req!.body)).toEqual({
      type: event.type,
      timestamp: event.occurredAt,
      data: event.data,
    });
    expect(new Webhook(secret).verify(req!.body, req!.headers)).toEqual(JSON.parse(req!.body));
  });

  it('a retry later sends the same id and body with a fresh timestamp and signature', async () => {
    const first = fakeHttp({ status: 200 });
    const second = fakeHttp({ status: 200 });

    await deliver(first.http, event, 1, () => now);
    await deliver(second.http, event, 2, () => now + 90_000);

    const [a, b] = [first.sent[0]!, second.sent[0]!];
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    expect(b.body).toBe(a.body);
    expect(Number(b.headers['webhook-timestamp']) - Number(a.headers['webhook-timestamp'])).toBe(90);
    expect(b.headers['webhook-signature']).not.toBe(a.headers['webhook-signature']);
  });

  it('an unknown subscriber is a non-retryable Misconfigured failure and nothing is posted', async () => {
    const { http, sent } = fakeHttp({ status: 200 });

    const failure = await failureOf(deliver(http, { ...event, subscriber: 'erp' }));

    expect(failure.type).toBe(ErrorType.Misconfigured);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('no webhook subscriber named "erp" is configured (WEBHOOK_SUBSCRIBERS)');
    expect(sent).toHaveLength(0);
  });
});

describe('deliverWebhook classification by status', () => {
  it.each([200, 201, 202, 204, 299])('HTTP %i is delivered', async (status) => {
    const result = await deliver(fakeHttp({ status }).http);
    expect(result).toEqual({ subscriber: 'crm', webhookId, status, attempts: 1 });
  });

  it('HTTP 410 is a non-retryable WebhookSubscriberGone', async () => {
    const failure = await failureOf(deliver(fakeHttp({ status: 410 }).http));

    expect(failure.type).toBe(ErrorType.WebhookSubscriberGone);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      'webhook customer.created to crm: the subscriber answered 410 Gone; remove or fix it in WEBHOOK_SUBSCRIBERS',
    );
    expect(failure.details).toEqual([{ subscriber: 'crm', webhookId, status: 410 }]);
  });

  it.each([400, 401, 403, 404, 405, 413, 422])(
    'HTTP %i is a non-retryable WebhookRejected',
    async (status) => {
      const failure = await failureOf(deliver(fakeHttp({ status }).http));

      expect(failure.type).toBe(ErrorType.WebhookRejected);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        `webhook customer.created to crm: the subscriber rejected the delivery with HTTP ${status}`,
      );
      expect(failure.details).toEqual([{ subscriber: 'crm', webhookId, status }]);
    },
  );

  it.each([408, 409, 500, 502, 504, 301, 302])('HTTP %i is a retryable SystemUnavailable', async (status) => {
    const failure = await failureOf(deliver(fakeHttp({ status }).http));

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(failure.message).toBe(`webhook customer.created to crm: HTTP ${status}`);
    expect(failure.details).toEqual([{ subscriber: 'crm', webhookId, status }]);
  });

  it.each([
    { status: 429, retryAfter: '2', said: 2000, delay: 2000 },
    { status: 503, retryAfter: '120', said: 120_000, delay: 120_000 },
    { status: 429, retryAfter: new Date(now + 5000).toUTCString(), said: 5000, delay: 5000 },
    // "Now" (or a date in the past) still waits a little: never a zero delay.
    { status: 503, retryAfter: '0', said: 0, delay: 100 },
    { status: 429, retryAfter: new Date(now - 60_000).toUTCString(), said: 0, delay: 100 },
  ])(
    'HTTP $status with Retry-After "$retryAfter" is RateLimited with nextRetryDelay $delay ms',
    async ({ status, retryAfter, said, delay }) => {
      const failure = await failureOf(
        deliver(fakeHttp({ status, headers: { 'retry-after': retryAfter } }).http),
      );

      expect(failure.type).toBe(ErrorType.RateLimited);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.nextRetryDelay).toBe(delay);
      expect(failure.message).toBe(`webhook customer.created to crm: HTTP ${status}, retry after ${said} ms`);
      expect(failure.details).toEqual([{ subscriber: 'crm', webhookId, status }]);
    },
  );

  it.each([
    { status: 429, headers: {} },
    { status: 503, headers: {} },
    { status: 429, headers: { 'retry-after': 'soon' } },
  ])(
    'HTTP $status without a readable Retry-After is RateLimited with the policy’s backoff',
    async (answer) => {
      const failure = await failureOf(deliver(fakeHttp(answer).http));

      expect(failure.type).toBe(ErrorType.RateLimited);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.nextRetryDelay).toBeUndefined();
      expect(failure.message).toBe(`webhook customer.created to crm: HTTP ${answer.status}`);
    },
  );
});

describe('deliverWebhook classification of network errors', () => {
  it('an axios timeout (ECONNABORTED) is a retryable Timeout', async () => {
    const error = Object.assign(new Error('timeout of 1000ms exceeded'), { code: 'ECONNABORTED' });

    const failure = await failureOf(deliver(fakeHttp({ error }).http));

    expect(failure.type).toBe(ErrorType.Timeout);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('webhook customer.created to crm failed: timeout of 1000ms exceeded');
    expect(failure.details).toEqual([{ subscriber: 'crm', webhookId }]);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'CERT_HAS_EXPIRED'])(
    'a connection failure (%s) is a retryable SystemUnavailable',
    async (code) => {
      const error = Object.assign(new Error(`connect ${code} hooks.example.com`), { code });

      const failure = await failureOf(deliver(fakeHttp({ error }).http));

      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toBe(
        `webhook customer.created to crm failed: connect ${code} hooks.example.com`,
      );
    },
  );
});

describe('subscribersFor', () => {
  const subscribers: WebhookSubscriber[] = [
    { name: 'everything', url: 'https://a.example.com/', secret },
    { name: 'empty-list', url: 'https://b.example.com/', secret, events: [] },
    {
      name: 'customers',
      url: 'https://c.example.com/',
      secret,
      events: ['customer.created', 'customer.updated'],
    },
    { name: 'orders', url: 'https://d.example.com/', secret, events: ['sap.salesorder.created'] },
  ];

  it('keeps subscribers that listed the type, and those that listed none', () => {
    expect(subscribersFor(subscribers, 'customer.created')).toEqual([
      'everything',
      'empty-list',
      'customers',
    ]);
    expect(subscribersFor(subscribers, 'sap.salesorder.created')).toEqual([
      'everything',
      'empty-list',
      'orders',
    ]);
    expect(subscribersFor(subscribers, 'inventory.low')).toEqual(['everything', 'empty-list']);
    expect(subscribersFor([], 'customer.created')).toEqual([]);
  });

  it('matches event types exactly (no prefixes, no case folding)', () => {
    expect(subscribersFor(subscribers, 'customer')).toEqual(['everything', 'empty-list']);
    expect(subscribersFor(subscribers, 'Customer.Created')).toEqual(['everything', 'empty-list']);
  });
});
