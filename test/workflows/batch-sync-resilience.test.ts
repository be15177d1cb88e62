import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { batchSync } from '../../src/workflows/batch-sync';
import { getSyncStateQuery, syncStateWorkflowId } from '../../src/workflows/batch-sync.messages';
import type { SyncSpec, SyncStateData } from '../../src/workflows/batch-sync.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * The cursor is never ahead of the writes: a worker process killed (SIGKILL) in the middle of a page,
 * and an SAP outage in the middle of a run, leave no record skipped and none written twice.
 */
describe('batch sync: cursor never ahead of writes', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t, {}, { salesforce: { queryBatchSize: 2 } });
  });
  afterAll(async () => {
    await env?.stop();
    await t?.close();
  });
  beforeEach(() => {
    env.salesforce.reset();
    env.sap.reset();
    env.sap.core.faults.reset();
    // Each test counts the SAP answers of its own run only.
    env.sap.core.requests.clear();
  });

  const spec = (prefix: string, pageSize: number): SyncSpec => ({
    name: `${prefix}-sf2sap`,
    direction: 'salesforce-to-sap',
    object: 'customer',
    pageSize,
    bulkThreshold: 1000,
    lookbackSeconds: 0,
    quotaReserve: 0.9,
    parkCheckSeconds: 1,
    maxHistoryEvents: 2000,
    bulkPollMs: 20,
  });
  const seedAccounts = (names: string[]) =>
    env.salesforce.seed(
      'Account',
      names.map((Name, i) => ({
        Name,
        BillingStreet: `Gasse ${i + 1}`,
        BillingCity: 'Wien',
        BillingPostalCode: '1010',
        BillingCountry: 'AT',
        SystemModstamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      })),
    );
  const sapCount = (name: string) => env.sap.customers().filter((c) => c.NAME1 === name).length;
  const stateOf = (name: string) =>
    t.client.workflow.getHandle(syncStateWorkflowId(name)).query<SyncStateData>(getSyncStateQuery);

  it('a worker process killed mid-page: the page is redone by another worker, nothing skipped, nothing created twice', async () => {
    const prefix = uniquePrefix('kill');
    const names = ['Kill 1', 'Kill 2', 'Kill 3', 'Kill 4'];
    seedAccounts(names);
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', path.resolve(__dirname, '../../src/workers/main.ts')],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          TEMPORAL_NAMESPACE: inject('temporalNamespace'),
          TASK_QUEUE_PREFIX: prefix,
          SALESFORCE_LOGIN_URL: env.config.SALESFORCE_LOGIN_URL,
          SAP_ENDPOINT: env.config.SAP_ENDPOINT,
          SAP_TIMEOUT_MS: '10000',
          SYNC_SCHEDULES_APPLY: 'false',
          ALERT_WEBHOOK_URL: env.config.ALERT_WEBHOOK_URL ?? '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>> | undefined;
    try {
      await waitFor('the worker process to poll', () => output.includes('worker: polling'), 90_000);
      // Slow SAP: the page's writes are in flight when the worker dies.
      env.sap.core.faults.setLatency({ fixedMs: 700 });
      const s = spec(prefix, 4);
      const handle = await t.client.workflow.start<typeof batchSync>('batchSync', {
        workflowId: `${s.name}:run`,
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ spec: s }],
      });
      await waitFor(
        'SAP writes to be in flight',
        () =>
          env.sap.core.requests.list().filter((r) => r.operation === 'BAPI_CUSTOMER_CREATEFROMDATA1')
            .length >= 1,
        30_000,
        10,
      );
      child.kill('SIGKILL');
      await exited;
      // Nothing of the page is committed: the sync's state has accepted no page (read from its history,
      // as no worker is left to answer a query).
      const history = await t.client.workflow.getHandle(syncStateWorkflowId(s.name)).fetchHistory();
      expect(history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);

      env.sap.core.faults.setLatency({ fixedMs: 0 });
      workers = await env.startWorkers(prefix);
      const result = await handle.result();
      expect(result.counts.read).toBe(4);
      for (const n of names) expect(sapCount(n)).toBe(1);
      expect((await stateOf(s.name)).cursor).toMatchObject({ system: 'salesforce' });
    } catch (err) {
      console.log(output);
      throw err;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await workers?.stop();
    }
  }, 180_000);

  it('pages overlap: the next page is written while a record of the current one waits for SAP, and the cursor stays behind that record until it is in', async () => {
    const prefix = uniquePrefix('overlap');
    const names = ['Lap 1', 'Lap 2', 'Lap 3', 'Lap 4'];
    const ids = seedAccounts(names);
    const workers = await env.startWorkers(prefix);
    try {
      const s = spec(prefix, 2);
      // SAP refuses the creation of the first page's first record until the rule is removed.
      const held = env.sap.core.faults.addRule({
        kind: 'service-unavailable',
        match: { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1', bodyIncludes: 'Lap 1' },
        rate: 1,
      });
      const handle = await t.client.workflow.start<typeof batchSync>('batchSync', {
        workflowId: `${s.name}:run`,
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ spec: s }],
      });
      // The second page's records reach SAP while the first page still waits for its first record.
      await waitFor(
        'the second page in SAP',
        () => sapCount('Lap 3') === 1 && sapCount('Lap 4') === 1,
        30_000,
      );
      expect(sapCount('Lap 1')).toBe(0);
      expect(held.fired).toBeGreaterThan(0);
      // Nothing is committed past a record that is not written: no page is committed yet.
      expect((await stateOf(s.name)).cursor).toBeUndefined();
      env.sap.core.faults.removeRule(held.id);
      const r = await handle.result();
      expect(r.counts).toMatchObject({ read: 4, created: 4, quarantined: 0 });
      for (const n of names) expect(sapCount(n)).toBe(1);
      expect((await stateOf(s.name)).cursor).toMatchObject({ system: 'salesforce', id: ids[3] });
    } finally {
      await workers.stop();
    }
  });

  it('an SAP outage mid-run: records wait for SAP, and at every moment the cursor covers only records that are in SAP', async () => {
    const prefix = uniquePrefix('outage');
    const names = ['Out 1', 'Out 2', 'Out 3', 'Out 4', 'Out 5', 'Out 6'];
    const ids = seedAccounts(names);
    const workers = await env.startWorkers(prefix);
    try {
      const s = spec(prefix, 2);
      // SAP answers 503 to the next creates: the second page's records run into it.
      env.sap.core.faults.addRule({
        kind: 'service-unavailable',
        match: { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' },
        remaining: 5,
      });
      const handle = await t.client.workflow.start<typeof batchSync>('batchSync', {
        workflowId: `${s.name}:run`,
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ spec: s }],
      });
      let samples = 0;
      let done = false;
      const result = handle.result().finally(() => (done = true));
      while (!done) {
        const cursor = (await stateOf(s.name).catch(() => undefined))?.cursor;
        if (cursor?.system === 'salesforce') {
          const upTo = ids.indexOf(cursor.id);
          expect(upTo).toBeGreaterThanOrEqual(0);
          for (const n of names.slice(0, upTo + 1)) expect(sapCount(n)).toBe(1);
          samples += 1;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await result;
      expect(r.counts).toMatchObject({ read: 6, created: 6, quarantined: 0 });
      expect(samples).toBeGreaterThan(0);
      for (const n of names) expect(sapCount(n)).toBe(1);
      expect(env.sap.core.requests.list().filter((x) => x.status === 503).length).toBe(5);
    } finally {
      await workers.stop();
    }
  });
});
