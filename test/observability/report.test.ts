import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { settleRun, startApi } from '../support/api';
import { customerBody } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/** A customer; in a country the SAP simulator has not configured (IS), one SAP rejects. */
function customer(label: string, country = 'GB') {
  return customerBody(label, {
    address: { street: '1 Main St', city: 'London', postalCode: 'SW1Y 4JH', country },
  });
}

/**
 * The integration report over a known mix of customer flows with injected faults: two clean runs, one
 * that rides out two SAP 500s, one SAP rejects (compensated, left failed). Every measured figure is
 * checked against that mix.
 */
describe('integration report (GET /v1/report, npm run report)', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('report');
  const started = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, { taskQueuePrefix: prefix, reportConfig: env.config });
  });
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  const run = async (body: ReturnType<typeof customer>) => {
    const res = await api.call('POST', '/v1/customers', body);
    expect(res.status).toBe(202);
    return (await settleRun(api, res.body.statusUrl)).body;
  };

  it('measures success, timing, error recovery, compensations and quarantined runs of a known mix', async () => {
    const closed = [await run(customer('rep-ok1')), await run(customer('rep-ok2'))];
    env.sap.core.faults.failNext('system-failure', 2, { operation: 'BAPI_CUSTOMER_FIND' });
    closed.push(await run(customer('rep-retry')));
    closed.push(await run(customer('rep-rej', 'IS')));
    expect(closed.map((c) => c.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED']);

    const query = `/v1/report?from=${encodeURIComponent(started)}&to=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`;
    const report = await waitFor('all four runs in visibility', async () => {
      const res = await api.call('GET', query);
      expect(res.status).toBe(200);
      return res.body.measured.total.runs === 4 ? res.body : undefined;
    });
    const durations = closed
      .map((c) => new Date(c.closeTime).getTime() - new Date(c.startTime).getTime())
      .sort((a, b) => a - b);
    const flow = report.measured.byFlow.find((f: { flow: string }) => f.flow === 'customerCreation');
    expect(report.measured.byFlow).toHaveLength(1);
    expect(flow).toEqual({
      flow: 'customerCreation',
      runs: 4,
      completed: 3,
      failed: 1,
      cancelled: 0,
      successRate: 0.75,
      averageMs: durations.reduce((a, b) => a + b, 0) / 4,
      p95Ms: durations[3],
      metRetryableFailure: 1,
      recovered: 1,
      errorRecoveryRate: 1,
      compensations: 1,
      quarantined: 1,
    });
    expect(report.measured.total).toEqual({ ...flow, flow: 'all' });

    // The configuration part comes from the configuration and the policies.
    expect(report.title).toBe('Multi-System Integration Complete');
    expect(report.systems.map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining(['Salesforce', 'SAP', 'Webhook subscribers']),
    );
    expect(report.systems.find((s: { name: string }) => s.name === 'Salesforce')).toMatchObject({
      auth: 'OAuth 2.0 client credentials flow',
      rateLimitPerSecond: env.config.SALESFORCE_RATE_LIMIT_PER_SECOND,
    });
    expect(report.flows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'customerCreation', kind: 'real-time' }),
        expect.objectContaining({ name: 'orderSync', kind: 'event-driven' }),
      ]),
    );
    expect(report.retryPolicies.find((p: { scope: string }) => p.scope === 'SAP calls').policy).toMatch(
      /^8 attempts, backoff 2s x2 up to 60s, 90s per attempt/,
    );
    expect(report.alertChannels[0]).toMatch(/Slack-compatible/);

    const markdown = await fetch(`${api.baseUrl}${query}&format=markdown`, {
      headers: { authorization: 'Bearer test-token-0123456789abcdef' },
    });
    expect(markdown.headers.get('content-type')).toMatch(/^text\/markdown/);
    const text = await markdown.text();
    expect(text).toContain('# Multi-System Integration Complete');
    expect(text).toMatch(/\| customerCreation \| 4 \| 75\.0 % \| .* \| 100\.0 % \(1\/1\) \| 1 \| 1 \|/);

    // npm run report: the same report from the command line, for the deployment the environment names.
    const cli = await promisify(execFile)(
      process.execPath,
      [
        resolve(__dirname, '../../node_modules/tsx/dist/cli.mjs'),
        resolve(__dirname, '../../scripts/report.ts'),
        '--from',
        started,
        '--format',
        'json',
      ],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          TEMPORAL_NAMESPACE: inject('temporalNamespace'),
          TASK_QUEUE_PREFIX: prefix,
        },
      },
    );
    const fromCli = JSON.parse(cli.stdout) as { measured: { total: unknown } };
    expect(fromCli.measured.total).toEqual(report.measured.total);
  });

  it.each([
    ['window=99y', 'window'],
    ['window=40d', 'window'],
    ['maxRuns=0', 'maxRuns'],
    ['maxRuns=100000', 'maxRuns'],
    ['from=2026-12-02T10:00:00Z&to=2026-12-01T10:00:00Z', 'from'],
    ['from=yesterday', 'from'],
    ['format=pdf', 'format'],
    ['colour=blue', ''],
  ])('GET /v1/report?%s -> 400 naming %s', async (params, field) => {
    const res = await api.call('GET', `/v1/report?${params}`);
    expect(res.status).toBe(400);
    if (field) expect(JSON.stringify(res.body.details)).toContain(field);
  });
});
