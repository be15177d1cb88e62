import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '../../src/observability/metric-names';
import type { batchSync } from '../../src/workflows/batch-sync';
import { getSyncProgressQuery } from '../../src/workflows/batch-sync.messages';
import type { SyncSpec } from '../../src/workflows/batch-sync.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { scrape, sumOf, workerMetricsUrl } from '../support/metrics';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('batch sync metrics on the worker endpoint: sync lag and API quota used', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('syncmetrics');
  const workflowQueue = taskQueueName(prefix, coordinatorQueue);

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
  });
  afterAll(async () => {
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  const spec: SyncSpec = {
    name: `${prefix}-accounts`,
    direction: 'salesforce-to-sap',
    object: 'customer',
    pageSize: 50,
    bulkThreshold: 1000,
    lookbackSeconds: 60,
    quotaReserve: 0.9,
    parkCheckSeconds: 1,
    maxHistoryEvents: 2000,
    bulkPollMs: 20,
  };
  const start = () =>
    t.client.workflow.start<typeof batchSync>('batchSync', {
      workflowId: `${spec.name}:${Math.random()}`,
      taskQueue: workflowQueue,
      args: [{ spec }],
    });
  const account = (Name: string) => ({
    Name,
    BillingStreet: 'Hauptstr. 1',
    BillingCity: 'Berlin',
    BillingPostalCode: '10115',
    BillingCountry: 'DE',
  });
  const gauges = async () => {
    const { samples } = await scrape(workerMetricsUrl());
    return {
      lag: sumOf(samples, metrics.syncLag.name, {
        taskQueue: workflowQueue,
        sync: spec.name,
        object: 'customer',
      }),
      lagSeries: samples.filter((s) => s.name === metrics.syncLag.name && s.labels.sync === spec.name).length,
      quota: sumOf(samples, metrics.quotaUsed.name, { taskQueue: workflowQueue, system: 'salesforce' }),
    };
  };

  it('a live run reports the quota Salesforce reported and a lag of at most its own duration; a parked run reports the quota past the reserve and a growing lag', async () => {
    env.salesforce.seed('Account', [account('Metric One'), account('Metric Two')]);
    env.salesforce.setApiUsage(500, 1000);
    const began = Date.now();
    const first = await (await start()).result();
    const firstSeconds = (Date.now() - began) / 1000;
    expect(first.counts).toMatchObject({ read: 2, created: 2 });
    const afterFirst = await gauges();
    expect(afterFirst.lagSeries).toBe(1);
    // Every change before the run's start is synced at its end: the lag is at most the run's duration.
    expect(afterFirst.lag).toBeGreaterThanOrEqual(0);
    expect(afterFirst.lag).toBeLessThanOrEqual(firstSeconds + 1);
    // Sforce-Limit-Info counts the run's own calls on top of the 500.
    expect(afterFirst.quota).toBeGreaterThan(0.5);
    expect(afterFirst.quota).toBeLessThan(0.6);

    // Past the reserve: the next run parks, and while it waits its lag keeps growing.
    env.salesforce.seed('Account', [account('Metric Three')]);
    env.salesforce.setApiUsage(950, 1000);
    const secondBegan = Date.now();
    const handle = await start();
    await waitFor('the run to park', async () =>
      (await handle.query(getSyncProgressQuery)).phase === 'parked' ? true : undefined,
    );
    const parked = await waitFor('a lag report while parked', async () => {
      const g = await gauges();
      return g.quota >= 0.95 && g.lag > afterFirst.lag ? g : undefined;
    });
    await waitFor('the lag to grow with the next check', async () =>
      (await gauges()).lag > parked.lag ? true : undefined,
    );
    env.salesforce.advanceApiUsageWindow(24 * 60 * 60 * 1000);
    expect((await handle.result()).counts.created).toBe(1);
    const secondSeconds = (Date.now() - secondBegan) / 1000;
    const done = await gauges();
    expect(done.lag).toBeLessThanOrEqual(secondSeconds + 1);
    expect(done.quota).toBeLessThan(0.1);
  });
});
