import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startApi } from '../support/api';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { workerMetricsUrl } from '../support/metrics';
import { findPrometheus, startPrometheus } from '../support/prometheus';
import type { RunningPrometheus } from '../support/prometheus';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

const found = findPrometheus();

/**
 * A real Prometheus (Debian's package; scripts/prometheus.sh installs it) scrapes the worker's and
 * the API's /metrics while a customer flow runs through the API, and the business metrics are read
 * back through Prometheus's HTTP API, with the project's alert rules loaded.
 */
describe.skipIf('missing' in found)(
  `Prometheus scrapes the worker and the API${'missing' in found ? ` (skipped: ${found.missing})` : ''}`,
  () => {
    let t: TemporalTestContext;
    let env: IntegrationEnvironment;
    let api: Awaited<ReturnType<typeof startApi>>;
    let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
    let prometheus: RunningPrometheus;
    const prefix = uniquePrefix('prom');

    beforeAll(async () => {
      t = await connectTemporal();
      env = await startIntegrationEnvironment(t);
      workers = await env.startWorkers(prefix);
      api = await startApi(t.client, { taskQueuePrefix: prefix });
      prometheus = await startPrometheus((found as { prometheus: string }).prometheus, [
        { job: 'integration-worker', url: workerMetricsUrl() },
        { job: 'integration-api', url: `${api.baseUrl}/metrics` },
      ]);
    });
    afterAll(async () => {
      await prometheus?.stop();
      await api?.close();
      await workers?.stop();
      await env?.stop();
      await t?.close();
    });

    it('reads the flow, external-call and API metrics of a customer flow back from Prometheus', async () => {
      const reference = uniquePrefix('promcust');
      const res = await api.call('POST', '/v1/customers', {
        reference,
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: 'ada@example.com',
        company: `Engines ${reference.slice(-8)}`,
        address: { street: '1 Main St', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
      });
      expect(res.status).toBe(202);
      await waitFor('the run to complete', async () => {
        const run = await api.call('GET', res.body.statusUrl);
        return run.body.status === 'COMPLETED';
      });

      const queue = taskQueueName(prefix, coordinatorQueue);
      const value = async (expr: string) => {
        const result = await prometheus.query(expr);
        return result.length ? Number(result[0]!.value[1]) : undefined;
      };
      await waitFor(
        'Prometheus to scrape the completed run',
        async () => (await value(`sum(integration_flow_runs_completed_total{taskQueue="${queue}"})`)) === 1,
        30_000,
        250,
      );
      expect(
        await value(`sum(integration_flow_runs_started_total{taskQueue="${queue}",flow="customerCreation"})`),
      ).toBe(1);
      expect(
        await value(`sum(integration_flow_duration_seconds_count{taskQueue="${queue}",outcome="completed"})`),
      ).toBe(1);
      expect(
        await value(
          `sum(integration_external_call_duration_seconds_count{taskQueue="${taskQueueName(prefix, 'sap')}",system="sap",operation="createCustomer"})`,
        ),
      ).toBe(1);
      await waitFor(
        'the API request in Prometheus',
        async () =>
          (await value(
            'sum(integration_api_http_requests_total{route="/v1/customers",method="POST",status_code="202"})',
          )) === 1,
        30_000,
        250,
      );
      expect(await value('up{job="integration-worker"}')).toBe(1);
      expect(await value('up{job="integration-api"}')).toBe(1);

      // The project's rule file is loaded and evaluated.
      const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: { name: string; rules: { name: string; health: string }[] }[] };
      };
      const all = rules.data.groups.flatMap((g) => g.rules);
      expect(all.map((r) => r.name)).toEqual(
        expect.arrayContaining([
          'IntegrationFlowFailureRateHigh',
          'IntegrationStuckRuns',
          'integration:entity_events_pending',
        ]),
      );
    });
  },
);
