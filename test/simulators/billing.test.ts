import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBillingSimulator, DEV_BILLING_SECRET_KEY } from '../../src/simulators/billing';
import type { BillingSimulator } from '../../src/simulators/billing';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { waitFor } from '../support/temporal';

let sim: BillingSimulator;
let running: RunningSimulator;

function stripeClient(options: { key?: string; maxNetworkRetries?: number; timeout?: number } = {}): Stripe {
  return new Stripe(options.key ?? DEV_BILLING_SECRET_KEY, {
    host: '127.0.0.1',
    port: running.port,
    protocol: 'http',
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    timeout: options.timeout ?? 5_000,
  });
}

async function rawPost(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${DEV_BILLING_SECRET_KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const requestsTo = (operation: string) =>
  sim.core.requests.list({ operation }).map((r) => ({ status: r.status, fault: r.fault }));

beforeAll(async () => {
  sim = createBillingSimulator();
  running = await sim.start({ port: 0 });
});
afterAll(async () => {
  await running?.stop();
});
beforeEach(() => {
  sim.reset();
  sim.core.faults.reset();
  sim.core.requests.clear();
});

describe('billing simulator through the official stripe client', () => {
  it('creates, retrieves, updates, lists, searches and deletes customers', async () => {
    const stripe = stripeClient();
    const created = await stripe.customers.create({
      name: 'Analytical Engines Ltd',
      email: 'ada@example.com',
      phone: '+442079460958',
      address: { line1: "12 St James's Square", city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
      metadata: { integration_reference: 'crm-42', sap_customer_number: '0000100042' },
      preferred_locales: ['en'],
    });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^cus_[A-Za-z0-9]{14}$/),
      object: 'customer',
      livemode: false,
      name: 'Analytical Engines Ltd',
      address: { line1: "12 St James's Square", line2: null, country: 'GB' },
      metadata: { integration_reference: 'crm-42', sap_customer_number: '0000100042' },
      preferred_locales: ['en'],
    });
    expect(created.lastResponse.requestId).toMatch(/^req_[A-Za-z0-9]{14}$/);
    expect(created.lastResponse.statusCode).toBe(200);

    const other = await stripe.customers.create({ name: 'Someone else', email: 'other@example.com' });

    const fetched = await stripe.customers.retrieve(created.id);
    expect(fetched).toMatchObject({ id: created.id, email: 'ada@example.com' });

    // An empty metadata value unsets that key; others stay.
    const updated = await stripe.customers.update(created.id, {
      description: 'linked',
      metadata: { sap_customer_number: '', salesforce_id: '001000000000001AAA' },
    });
    expect(updated.metadata).toEqual({
      integration_reference: 'crm-42',
      salesforce_id: '001000000000001AAA',
    });
    expect(updated.description).toBe('linked');

    const byEmail = await stripe.customers.list({ email: 'ada@example.com' });
    expect(byEmail).toMatchObject({ object: 'list', has_more: false });
    expect(byEmail.data.map((c) => c.id)).toEqual([created.id]);

    const newestFirst = await stripe.customers.list({ limit: 1 });
    expect(newestFirst.data.map((c) => c.id)).toEqual([other.id]);
    expect(newestFirst.has_more).toBe(true);
    const next = await stripe.customers.list({ limit: 1, starting_after: other.id });
    expect(next.data.map((c) => c.id)).toEqual([created.id]);

    const found = await stripe.customers.search({ query: "metadata['integration_reference']:'crm-42'" });
    expect(found.object).toBe('search_result');
    expect(found.data.map((c) => c.id)).toEqual([created.id]);
    const byName = await stripe.customers.search({ query: 'name~"engines" AND -email:"other@example.com"' });
    expect(byName.data.map((c) => c.id)).toEqual([created.id]);
    const none = await stripe.customers.search({ query: "metadata['integration_reference']:null" });
    expect(none.data.map((c) => c.id)).toEqual([other.id]);

    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toMatchObject({ id: created.id, object: 'customer', deleted: true });
    // Stripe still answers a retrieve of a deleted customer, with the deleted stub.
    expect(await stripe.customers.retrieve(created.id)).toMatchObject({ id: created.id, deleted: true });
    const again = await stripe.customers.del(created.id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id' });
    expect(
      (await stripe.customers.search({ query: "metadata['integration_reference']:'crm-42'" })).data,
    ).toEqual([]);
    expect(sim.customer(created.id)).toMatchObject({ deleted: true });
  });

  it('rejects a wrong secret key with 401 and invalid parameters with 400 naming the parameter', async () => {
    const wrong = await stripeClient({ key: 'sk_test_not-the-right-key-000' })
      .customers.list()
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(wrong).toMatchObject({
      statusCode: 401,
      message: expect.stringContaining('Invalid API Key provided'),
    });

    const stripe = stripeClient();
    const badEmail = await stripe.customers.create({ email: 'not-an-email' }).catch((e: unknown) => e);
    expect(badEmail).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(badEmail).toMatchObject({ statusCode: 400, code: 'email_invalid', param: 'email' });

    const unknown = await stripe.customers
      .create({ name: 'x', nickname: 'y' } as Stripe.CustomerCreateParams)
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'nickname' });

    const badQuery = await stripe.customers
      .search({ query: 'name:"a" AND email:"b" OR phone:"c"' })
      .catch((e: unknown) => e);
    expect(badQuery).toMatchObject({
      statusCode: 400,
      param: 'query',
      message: expect.stringContaining('AND and OR'),
    });
    expect(sim.customers()).toHaveLength(0);
  });

  it('replays an idempotent create and refuses the same key with other parameters', async () => {
    const stripe = stripeClient();
    const key = 'customer-creation:crm-7/billing-customer';
    const first = await stripe.customers.create(
      { name: 'Ada', metadata: { ref: 'crm-7' } },
      { idempotencyKey: key },
    );
    const second = await stripe.customers.create(
      { name: 'Ada', metadata: { ref: 'crm-7' } },
      { idempotencyKey: key },
    );
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(second.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(sim.customers()).toHaveLength(1);

    const misuse = await stripe.customers
      .create({ name: 'Someone else', metadata: { ref: 'crm-7' } }, { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(misuse).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(misuse).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    expect(sim.customers()).toHaveLength(1);
    expect(sim.idempotencyKeys()).toEqual([expect.objectContaining({ key, state: 'saved', replays: 1 })]);
  });

  it('a create whose answer was lost (client timeout) is replayed, not duplicated, by a retry with the same key', async () => {
    sim.core.faults.failNext('timeout', 1, { operation: 'createCustomer' }, { delayMs: 600 });
    const key = 'lost-answer/billing-customer';
    const lost = await stripeClient({ timeout: 200 })
      .customers.create({ name: 'Lost answer' }, { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);

    // While the first request still executes, the same key is "in use": 409, retry advised.
    const stripe = stripeClient();
    const inUse = await stripe.customers
      .create({ name: 'Lost answer' }, { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(inUse).toMatchObject({ statusCode: 409, rawType: 'idempotency_error' });
    expect((inUse as Stripe.errors.StripeError).headers?.['stripe-should-retry']).toBe('true');

    // The stripe client itself retries 409s; by then the first request has finished and is replayed.
    const replayed = await stripeClient({ maxNetworkRetries: 5 }).customers.create(
      { name: 'Lost answer' },
      { idempotencyKey: key },
    );
    expect(replayed.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(sim.customers({}).map((c) => c.id)).toEqual([replayed.id]);
  });

  it('answers 429 with Stripe-Should-Retry and Retry-After, which the stripe client honours', async () => {
    sim.core.faults.failNext('rate-limit', 1, { operation: 'createCustomer' }, { retryAfterSeconds: 3 });
    const throttled = await stripeClient()
      .customers.create({ name: 'Throttled' })
      .catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(throttled).toMatchObject({ statusCode: 429, code: 'rate_limit', rawType: 'rate_limit_error' });
    const headers = (throttled as Stripe.errors.StripeError).headers!;
    expect(headers['retry-after']).toBe('3');
    expect(headers['stripe-should-retry']).toBe('true');
    expect(sim.customers()).toHaveLength(0);

    // With retries enabled the client retries the 429 (it says it should) and succeeds.
    sim.core.requests.clear();
    sim.core.faults.failNext('rate-limit', 1, { operation: 'createCustomer' }, { retryAfterSeconds: 0 });
    const created = await stripeClient({ maxNetworkRetries: 2 }).customers.create(
      { name: 'Retried' },
      { idempotencyKey: 'retried-once' },
    );
    expect(requestsTo('createCustomer')).toEqual([
      { status: 429, fault: 'rate-limit' },
      { status: 200, fault: undefined },
    ]);
    expect(sim.customers().map((c) => c.id)).toEqual([created.id]);

    // A 500 during execution is saved under the key: Stripe says a retry would only replay it.
    sim.core.faults.failNext('api-error', 1, { operation: 'createCustomer' }, { duringExecution: true });
    const failed = await stripeClient({ maxNetworkRetries: 2 })
      .customers.create({ name: 'Broken' }, { idempotencyKey: 'burnt' })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect((failed as Stripe.errors.StripeError).headers?.['stripe-should-retry']).toBe('false');
    expect(requestsTo('createCustomer').filter((r) => r.status === 500)).toHaveLength(1);
  });

  it('enforces a configured per-key request rate with 429 rate_limit', async () => {
    const limited = createBillingSimulator({ requestsPerSecond: 2 });
    const r = await limited.start({ port: 0 });
    try {
      const stripe = new Stripe(DEV_BILLING_SECRET_KEY, {
        host: '127.0.0.1',
        port: r.port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
      const outcomes = await Promise.all(
        [1, 2, 3].map((i) =>
          stripe.customers.create({ name: `c${i}` }).then(
            () => 'ok',
            (e: unknown) => (e as Stripe.errors.StripeError).type,
          ),
        ),
      );
      expect(outcomes.sort()).toEqual(['StripeRateLimitError', 'ok', 'ok']);
      expect(limited.customers()).toHaveLength(2);
    } finally {
      await r.stop();
    }
  });

  it('search lags behind writes when an index delay is configured, as Stripe documents', async () => {
    const lagging = createBillingSimulator({ searchIndexDelayMs: 300 });
    const r = await lagging.start({ port: 0 });
    try {
      const stripe = new Stripe(DEV_BILLING_SECRET_KEY, {
        host: '127.0.0.1',
        port: r.port,
        protocol: 'http',
      });
      const created = await stripe.customers.create({ name: 'Fresh', metadata: { ref: 'lag' } });
      const query = "metadata['ref']:'lag'";
      expect((await stripe.customers.search({ query })).data).toHaveLength(0);
      // Retrieve and list read the record itself, at once.
      expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([created.id]);
      const found = await waitFor('the customer in the search index', async () => {
        const page = await stripe.customers.search({ query });
        return page.data.length ? page.data : undefined;
      });
      expect(found.map((c) => c.id)).toEqual([created.id]);
    } finally {
      await r.stop();
    }
  });
});

describe('billing simulator wire format (raw HTTP)', () => {
  it('takes form-encoded bracket notation and answers JSON with a Request-Id', async () => {
    const res = await rawPost(
      '/v1/customers',
      'name=Ada+Lovelace&metadata%5Bintegration_reference%5D=crm-1&address%5Bcountry%5D=GB&preferred_locales%5B0%5D=en&preferred_locales%5B1%5D=fr',
      { 'idempotency-key': 'raw-1' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('idempotency-key')).toBe('raw-1');
    expect(res.body).toMatchObject({
      object: 'customer',
      name: 'Ada Lovelace',
      metadata: { integration_reference: 'crm-1' },
      address: { country: 'GB', city: null },
      preferred_locales: ['en', 'fr'],
    });

    const replay = await rawPost(
      '/v1/customers',
      'preferred_locales%5B0%5D=en&preferred_locales%5B1%5D=fr&address%5Bcountry%5D=GB&metadata%5Bintegration_reference%5D=crm-1&name=Ada+Lovelace',
      { 'idempotency-key': 'raw-1' },
    );
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(res.body.id);

    const misuse = await rawPost('/v1/customers', 'name=Someone+else', { 'idempotency-key': 'raw-1' });
    expect(misuse.status).toBe(400);
    expect(misuse.body).toEqual({
      error: {
        type: 'idempotency_error',
        message: expect.stringContaining('same parameters'),
        request_id: misuse.headers.get('request-id'),
      },
    });
  });

  it('answers errors with Stripe’s error object: 401 without a key, 400 for JSON bodies, 404 for unknown ids', async () => {
    const noKey = await fetch(`${running.url}/v1/customers`);
    expect(noKey.status).toBe(401);
    const noKeyBody = (await noKey.json()) as any;
    expect(noKeyBody).toEqual({
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('You did not provide an API key'),
        request_id: noKey.headers.get('request-id'),
      },
    });

    const json = await rawPost('/v1/customers', '{"name":"x"}', { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(json.body.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('form-urlencoded'),
    });

    const missing = await fetch(`${running.url}/v1/customers/cus_doesnotexist000`, {
      headers: { authorization: `Bearer ${DEV_BILLING_SECRET_KEY}` },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'id',
        message: "No such customer: 'cus_doesnotexist000'",
      },
    });

    const basic = await fetch(`${running.url}/v1/customers`, {
      headers: { authorization: `Basic ${Buffer.from(`${DEV_BILLING_SECRET_KEY}:`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    expect(await basic.json()).toMatchObject({
      object: 'list',
      data: [],
      has_more: false,
      url: '/v1/customers',
    });
  });

  it('a rate-limited request carries Retry-After and Stripe-Should-Retry and creates nothing', async () => {
    sim.core.faults.failNext('rate-limit', 1, { operation: 'createCustomer' }, { retryAfterSeconds: 2 });
    const res = await rawPost('/v1/customers', 'name=x', { 'idempotency-key': 'throttled-key' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('stripe-should-retry')).toBe('true');
    expect(res.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit' });
    // Nothing was executed, so the key is free: the retry creates the customer.
    const retry = await rawPost('/v1/customers', 'name=x', { 'idempotency-key': 'throttled-key' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(sim.customers()).toHaveLength(1);
  });

  it('the admin surface lists customers by metadata and the idempotency keys', async () => {
    await rawPost('/v1/customers', 'name=a&metadata%5Bref%5D=one', { 'idempotency-key': 'k-a' });
    await rawPost('/v1/customers', 'name=b&metadata%5Bref%5D=two');
    const res = await fetch(`${running.url}/__admin/records?metadata%5Bref%5D=two`);
    const body = (await res.json()) as any;
    expect(body.customers.map((c: { name: string }) => c.name)).toEqual(['b']);
    expect(body.idempotencyKeys).toEqual([
      expect.objectContaining({ key: 'k-a', method: 'POST', path: '/v1/customers' }),
    ]);
  });
});
