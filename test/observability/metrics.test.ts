import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportedSeriesNames, metrics } from '../../src/observability/metric-names';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { settleRun, startApi, testApiToken } from '../support/api';
import { customerBody } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { scrape, sumOf, workerMetricsUrl } from '../support/metrics';
import type { Sample } from '../support/metrics';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/** A customer whose personal data is easy to look for in an exposition. */
function markerCustomer(label: string, overrides: Record<string, unknown> = {}) {
  return customerBody(label, {
    firstName: 'Zyxmarker',
    lastName: 'Qwvmarker',
    email: 'zyx.marker@example.org',
    phone: '+44 20 7946 0999',
    address: { street: '99 Markerstreet', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    ...overrides,
  });
}

describe('metrics: business metrics on the worker endpoint, API metrics on /metrics', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('metrics');
  const workflowQueue = taskQueueName(prefix, coordinatorQueue);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const happy = markerCustomer('mhappy');
  // A country the SAP simulator has not configured: SAP rejects it, the saga deletes the Account.
  const rejected = markerCustomer('mrej', {
    address: { street: '98 Markerstreet', city: 'Reykjavik', postalCode: '101', country: 'IS' },
  });

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      notificationRetry: { initialInterval: '100ms', maximumAttempts: 2 },
      webhooks: {
        secrets: { salesforce: secret, sap: secret, inventory: secret },
        workflowIdPrefix: `${prefix}:`,
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  const settle = async (statusUrl: string) => (await settleRun(api, statusUrl)).body;

  it('counts flows, compensations, durations, external calls and deliveries of real runs, per flow and system', async () => {
    const ok = await api.call('POST', '/v1/customers', happy);
    const bad = await api.call('POST', '/v1/customers', rejected);
    expect([ok.status, bad.status]).toEqual([202, 202]);
    expect((await settle(ok.body.statusUrl)).status).toBe('COMPLETED');
    expect((await settle(bad.body.statusUrl)).status).toBe('FAILED');

    const ours = { flow: 'customerCreation', taskQueue: workflowQueue };
    let samples: Sample[] = [];
    await waitFor('both runs in the worker metrics', async () => {
      samples = (await scrape(workerMetricsUrl())).samples;
      return sumOf(samples, 'integration_flow_duration_seconds_count', ours) === 2;
    });
    expect(sumOf(samples, metrics.flowStarted.name, ours)).toBe(2);
    expect(sumOf(samples, metrics.flowCompleted.name, ours)).toBe(1);
    expect(sumOf(samples, metrics.flowFailed.name, { ...ours, failure_type: 'SapBusinessError' })).toBe(1);
    expect(sumOf(samples, metrics.flowCompensated.name, { ...ours, outcome: 'complete' })).toBe(1);
    expect(sumOf(samples, 'integration_flow_duration_seconds_count', { ...ours, outcome: 'completed' })).toBe(
      1,
    );
    expect(sumOf(samples, 'integration_flow_duration_seconds_sum', ours)).toBeGreaterThan(0);
    expect(
      sumOf(samples, metrics.webhookDeliveries.name, {
        taskQueue: workflowQueue,
        subscriber: 'consumer',
        outcome: 'delivered',
      }),
    ).toBe(1);

    // External calls: one histogram series per system/operation/outcome, errors by failure type.
    const sfQueue = taskQueueName(prefix, 'salesforce');
    const sapQueue = taskQueueName(prefix, 'sap');
    expect(
      sumOf(samples, 'integration_external_call_duration_seconds_count', {
        taskQueue: sfQueue,
        system: 'salesforce',
        operation: 'upsertAccount',
        outcome: 'success',
      }),
    ).toBe(2);
    expect(
      sumOf(samples, metrics.callErrors.name, {
        taskQueue: sapQueue,
        system: 'sap',
        operation: 'createCustomer',
        failure_type: 'SapBusinessError',
        retryable: 'false',
      }),
    ).toBe(1);
    expect(
      sumOf(samples, 'integration_external_call_duration_seconds_count', {
        taskQueue: sfQueue,
        operation: 'deleteAccount',
        outcome: 'success',
      }),
    ).toBe(1);
  });

  it('counts retries of external calls', async () => {
    env.sap.core.faults.failNext('system-failure', 2, { operation: 'BAPI_CUSTOMER_FIND' });
    const res = await api.call('POST', '/v1/customers', markerCustomer('mretry'));
    expect((await settle(res.body.statusUrl)).status).toBe('COMPLETED');
    const labels = { taskQueue: taskQueueName(prefix, 'sap'), system: 'sap', operation: 'findCustomer' };
    const samples = await waitFor('the retries in the worker metrics', async () => {
      const s = (await scrape(workerMetricsUrl())).samples;
      return sumOf(s, metrics.callRetries.name, labels) >= 2 ? s : undefined;
    });
    expect(sumOf(samples, metrics.callRetries.name, labels)).toBe(2);
    expect(sumOf(samples, metrics.callErrors.name, { ...labels, retryable: 'true' })).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('counts API requests by route template and status, and ingress requests by source and verdict', async () => {
    const hook = new Webhook(secret);
    const send = async (source: string, body: string, sign = true) => {
      const id = `msg_${randomUUID()}`;
      const now = new Date();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': sign ? hook.sign(id, now, body) : 'v1,AAAA',
      };
      return (await fetch(`${api.baseUrl}/webhooks/${source}`, { method: 'POST', headers, body })).status;
    };
    const stock = JSON.stringify({
      type: 'inventory.stock_changed',
      timestamp: new Date().toISOString(),
      data: {
        sku: `M-${randomUUID().slice(0, 8)}`,
        warehouse: '1000',
        quantity: 5,
        previousQuantity: 6,
        version: 1,
        changedAt: '2026-11-25T10:00:00.000Z',
        source: 'warehouse',
      },
    });
    expect(await send('inventory', stock)).toBe(200);
    expect(await send('inventory', stock, false)).toBe(401);
    expect(await send('sap', '{"type":"nonsense"}')).toBe(400);
    expect(await send('salesforce', JSON.stringify({ pad: 'x'.repeat(1_100_000) }))).toBe(413);
    expect((await api.call('GET', '/v1/runs/no-such-run')).status).toBe(404);

    const { samples } = await scrape(`${api.baseUrl}/metrics`);
    const ingress = (source: string, verdict: string) =>
      sumOf(samples, metrics.ingressEvents.name, { source, verdict });
    expect(ingress('inventory', 'accepted')).toBe(1);
    expect(ingress('inventory', '401')).toBe(1);
    expect(ingress('sap', '400')).toBe(1);
    expect(ingress('salesforce', '413')).toBe(1);
    expect(
      sumOf(samples, metrics.httpRequests.name, {
        method: 'GET',
        route: '/v1/runs/:workflowId',
        status_code: '404',
      }),
    ).toBe(1);
    expect(
      sumOf(samples, 'integration_api_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/webhooks/inventory',
      }),
    ).toBe(2);
    expect(sumOf(samples, 'integration_api_process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('exposes no personal data, ids or secrets, and only metric names from the registry', async () => {
    const worker = await scrape(workerMetricsUrl());
    const apiMetrics = await scrape(`${api.baseUrl}/metrics`);
    const known = new Set(exportedSeriesNames());
    for (const { text, samples } of [worker, apiMetrics]) {
      for (const needle of [
        'Zyxmarker',
        'Qwvmarker',
        'zyx.marker',
        '7946 0999',
        'Markerstreet',
        happy.reference,
        rejected.reference,
        testApiToken,
        secret.slice(6),
        'whsec_',
        'customer-creation:',
      ]) {
        expect(text).not.toContain(needle);
      }
      for (const s of samples.filter(
        (x) =>
          x.name.startsWith('integration_') &&
          !x.name.startsWith('integration_api_process') &&
          !x.name.startsWith('integration_api_nodejs'),
      )) {
        expect(known.has(s.name), s.name).toBe(true);
      }
    }
  });
});
