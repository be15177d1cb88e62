import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleRun, startApi } from '../support/api';
import { customerBody } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('API: customers end to end (HTTP -> Temporal -> simulators)', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('apicust');

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      notificationRetry: { initialInterval: '100ms', maximumAttempts: 2 },
    });
  });
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  it('POST /v1/customers answers 202 and the status URL shows the result once completed', async () => {
    const customer = customerBody('created');
    const res = await api.call('POST', '/v1/customers', customer);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      workflowId: `customer-creation:${customer.reference}`,
      runId: expect.any(String),
      statusUrl: `/v1/runs/${encodeURIComponent(`customer-creation:${customer.reference}`)}`,
    });
    const done = await settleRun(api, res.body.statusUrl);
    expect(done.body).toMatchObject({
      status: 'COMPLETED',
      workflowType: 'customerCreation',
      result: {
        salesforceId: expect.stringMatching(/^001/),
        sapCustomerNumber: expect.stringMatching(/^\d{10}$/),
        notification: { status: 'delivered' },
      },
    });
  });

  it('the same request twice with one Idempotency-Key starts one run', async () => {
    const customer = customerBody('idem');
    const headers = { 'idempotency-key': `key-${customer.reference}` };
    const first = await api.call('POST', '/v1/customers', customer, headers);
    const second = await api.call('POST', '/v1/customers', customer, headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      workflowId: first.body.workflowId,
      runId: first.body.runId,
      existing: true,
    });
    await settleRun(api, first.body.statusUrl);
    const third = await api.call('POST', '/v1/customers', customer, headers);
    expect(third.body).toMatchObject({ runId: first.body.runId, status: 'COMPLETED' });
    expect(
      env.salesforce.records('Account').filter((a) => a.Integration_Id__c === customer.reference),
    ).toHaveLength(1);
  });

  it('the same Idempotency-Key with a different body is 422, for the same or another reference', async () => {
    const customer = customerBody('idem422');
    const headers = { 'idempotency-key': `key-${customer.reference}` };
    expect((await api.call('POST', '/v1/customers', customer, headers)).status).toBe(202);
    const sameRef = await api.call('POST', '/v1/customers', { ...customer, firstName: 'Augusta' }, headers);
    expect(sameRef.status).toBe(422);
    expect(sameRef.body.error).toBe('idempotency_key_reused');
    const otherRef = customerBody('idem422b');
    // Visibility is eventually consistent: the earlier run becomes searchable by its key shortly after it starts.
    const res = await waitFor('the key to be visible', async () => {
      const r = await api.call('POST', '/v1/customers', otherRef, headers);
      return r.status === 422 ? r : undefined;
    });
    expect(res.body.error).toBe('idempotency_key_reused');
    expect((await api.call('GET', `/v1/runs/customer-creation:${otherRef.reference}`)).status).toBe(404);
  });

  it('the same reference with different data and no key is 409 while the first run exists', async () => {
    const customer = customerBody('conflict');
    const first = await api.call('POST', '/v1/customers', customer);
    expect(first.status).toBe(202);
    const again = await api.call('POST', '/v1/customers', customer);
    expect(again.status).toBe(200);
    const other = await api.call('POST', '/v1/customers', { ...customer, email: 'other@example.com' });
    expect(other.status).toBe(409);
    expect(other.body.details.workflowId).toBe(first.body.workflowId);
  });

  it.each([
    ['an empty body', {}],
    ['a missing reference', { ...customerBody('x'), reference: undefined }],
    ['a reference with spaces', { ...customerBody('x'), reference: 'has spaces' }],
    ['a bad e-mail', { ...customerBody('x'), email: 'ada-at-example.com' }],
    ['a national phone number', { ...customerBody('x'), phone: '020 7946 0958' }],
    [
      'an unknown country',
      { ...customerBody('x'), address: { ...customerBody('x').address, country: 'XX' } },
    ],
    [
      'a last name longer than SAP allows',
      { ...customerBody('x'), company: undefined, lastName: 'L'.repeat(36) },
    ],
    [
      'a street longer than SAP allows',
      { ...customerBody('x'), address: { ...customerBody('x').address, street: 'S'.repeat(36) } },
    ],
    ['an unknown field', { ...customerBody('x'), nickname: 'ada' }],
    ['a number where a string belongs', { ...customerBody('x'), firstName: 42 }],
    ['a missing address', { ...customerBody('x'), address: undefined }],
    ['a bad currency', { ...customerBody('x'), currency: 'POUNDS' }],
  ])('rejects %s with 400, every field error listed, and starts nothing', async (_what, invalid) => {
    const res = await api.call('POST', '/v1/customers', invalid);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.details.length).toBeGreaterThan(0);
    for (const d of res.body.details)
      expect(d).toEqual({ path: expect.any(String), message: expect.any(String) });
    const reference = (invalid as { reference?: unknown }).reference;
    if (typeof reference === 'string' && /^[A-Za-z0-9]/.test(reference)) {
      expect((await api.call('GET', `/v1/runs/customer-creation:${reference}`)).status).toBe(404);
    }
  });

  it('rejects malformed JSON and a bad Idempotency-Key with 400', async () => {
    expect((await api.call('POST', '/v1/customers', '{"reference":')).status).toBe(400);
    expect(
      (await api.call('POST', '/v1/customers', customerBody('k'), { 'idempotency-key': 'has space' })).status,
    ).toBe(400);
  });

  it('requires the bearer token', async () => {
    const res = await fetch(`${api.baseUrl}/v1/customers`, {
      method: 'POST',
      body: JSON.stringify(customerBody('auth')),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(401);
  });

  it('cancel during the SAP step: status CANCELED and the Account is undone', async () => {
    const customer = customerBody('apicancel');
    env.sap.core.faults.failNext('timeout', 1, { operation: 'BAPI_CUSTOMER_FIND' }, { delayMs: 1500 });
    const started = await api.call('POST', '/v1/customers', customer);
    await waitFor(
      'the SAP step',
      async () => (await api.call('GET', started.body.statusUrl)).body.step === 'sap-customer',
    );
    const cancel = await api.call('POST', `${started.body.statusUrl}/cancel`);
    expect(cancel.status).toBe(202);
    const done = await settleRun(api, started.body.statusUrl);
    expect(done.body.status).toBe('CANCELED');
    expect(
      env.salesforce.records('Account').filter((a) => a.Integration_Id__c === customer.reference),
    ).toHaveLength(0);
    expect((await api.call('POST', `${started.body.statusUrl}/cancel`)).status).toBe(409);
  });

  it('a failed run shows its failure type and message, is listed as failed, and can be redriven', async () => {
    const customer = customerBody('apifail', {
      address: { street: '1 Main St', city: 'Reykjavik', postalCode: '101', country: 'IS' },
    });
    const started = await api.call('POST', '/v1/customers', customer);
    const done = await settleRun(api, started.body.statusUrl);
    expect(done.body.status).toBe('FAILED');
    expect(done.body.failure).toEqual({
      type: 'SapBusinessError',
      message: expect.stringContaining('BAPI_CUSTOMER_CREATEFROMDATA1 rejected'),
    });

    const listed = await waitFor('the failed run in the list', async () => {
      const res = await api.call(
        'GET',
        `/v1/runs?flow=customer-creation&status=FAILED&businessKey=${customer.reference}`,
      );
      return res.body.runs.length ? res.body.runs : undefined;
    });
    expect(listed).toEqual([
      expect.objectContaining({ workflowId: started.body.workflowId, status: 'FAILED' }),
    ]);

    const redrive = await api.call('POST', `${started.body.statusUrl}/redrive`);
    expect(redrive.status).toBe(202);
    expect(redrive.body).toMatchObject({ redrive: 'restarted', previousRunId: started.body.runId });
    expect(redrive.body.runId).not.toBe(started.body.runId);
    const again = await settleRun(api, started.body.statusUrl);
    expect(again.body.runId).toBe(redrive.body.runId);
    expect(again.body.failure.type).toBe('SapBusinessError');
  });

  it('a completed run whose notification failed is redriven with the same webhook-id', async () => {
    const customer = customerBody('apiredrive');
    // Every customer.created delivery fails until this run has given up (its 2 attempts), not only the
    // next two: a delivery of another run landing in between must not use up one of this run's failures.
    const refusing = env.webhooks.core.faults.addRule({
      kind: 'server-error',
      rate: 1,
      match: { operation: 'customer.created' },
    });
    const started = await api.call('POST', '/v1/customers', customer);
    const done = await settleRun(api, started.body.statusUrl);
    env.webhooks.core.faults.removeRule(refusing.id);
    expect(done.body.result.notification.status).toBe('failed');

    const redrive = await api.call('POST', `${started.body.statusUrl}/redrive`);
    expect(redrive.status).toBe(202);
    expect(redrive.body).toMatchObject({ redrive: 'notification', subscribers: ['consumer'] });
    const redelivered = await settleRun(api, redrive.body.statusUrl);
    expect(redelivered.body.status).toBe('COMPLETED');
    const accepted = env.webhooks
      .deliveries({ type: 'customer.created' })
      .filter((d) => (d.body as any)?.data?.reference === customer.reference && d.status < 300);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.webhookId).toBe(redelivered.body.result.deliveries[0].webhookId);
    const failedAttempts = env.webhooks
      .deliveries({ type: 'customer.created' })
      .filter((d) => (d.body as any)?.data?.reference === customer.reference && d.status >= 500);
    expect(failedAttempts.map((d) => d.webhookId)).toEqual([accepted[0]!.webhookId, accepted[0]!.webhookId]);
  });

  it('serves an OpenAPI document whose Customer schema carries the SAP length limits', async () => {
    const res = await fetch(`${api.baseUrl}/openapi.json`);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.Customer.properties.lastName.maxLength).toBe(35);
    expect(Object.keys(doc.paths)).toContain('/v1/customers');
  });
});
