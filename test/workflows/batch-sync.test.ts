import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SyncCursor } from '../../src/domain/batch-sync';
import type { batchSync } from '../../src/workflows/batch-sync';
import {
  getSyncProgressQuery,
  getSyncStateQuery,
  syncStateWorkflowId,
} from '../../src/workflows/batch-sync.messages';
import type { BatchSyncInput, SyncSpec, SyncStateData } from '../../src/workflows/batch-sync.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

type Row = Record<string, unknown>;

describe('batch sync on a real Temporal server, real clients, simulators', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;

  beforeAll(async () => {
    t = await connectTemporal();
    // Query batches of 2 records (Salesforce's own default is 2000) so pages are small.
    env = await startIntegrationEnvironment(
      t,
      {},
      { salesforce: { queryBatchSize: 2, bulkQueryProcessingMs: 20 } },
    );
  });
  afterAll(async () => {
    await env?.stop();
    await t?.close();
  });
  beforeEach(() => {
    // Every sync reads the whole org: each test starts from empty systems.
    env.salesforce.reset();
    env.sap.reset();
    env.alerts.received.length = 0;
  });

  function specFor(
    prefix: string,
    direction: SyncSpec['direction'],
    extra: Partial<SyncSpec> = {},
  ): SyncSpec {
    return {
      name: `${prefix}-${direction}`,
      direction,
      object: 'customer',
      pageSize: 2,
      bulkThreshold: 1000,
      lookbackSeconds: 3600,
      quotaReserve: 0.9,
      parkCheckSeconds: 1,
      maxHistoryEvents: 2000,
      bulkPollMs: 20,
      ...extra,
    };
  }

  async function start(prefix: string, input: BatchSyncInput, id = `${input.spec.name}:${Math.random()}`) {
    return t.client.workflow.start<typeof batchSync>('batchSync', {
      workflowId: id,
      taskQueue: taskQueueName(prefix, coordinatorQueue),
      args: [input],
    });
  }

  async function syncState(name: string): Promise<SyncStateData> {
    return t.client.workflow.getHandle(syncStateWorkflowId(name)).query(getSyncStateQuery);
  }

  const account = (fields: Row): Row => ({
    Name: 'Acme GmbH',
    BillingStreet: 'Hauptstr. 1',
    BillingCity: 'Berlin',
    BillingPostalCode: '10115',
    BillingCountry: 'DE',
    ...fields,
  });
  const sapNamed = (name: string) => env.sap.customers().filter((c) => c.NAME1 === name);
  const accountById = (id: string) => env.salesforce.record('Account', id)!;

  it('Salesforce -> SAP: pages by (SystemModstamp, Id); two records sharing a timestamp across a page boundary are both synced; a lookback re-read duplicates nothing', async () => {
    const prefix = uniquePrefix('sf2sap');
    const stamp = '2026-03-01T10:00:00.000Z';
    const ids = env.salesforce.seed('Account', [
      account({ Name: 'Page One A', SystemModstamp: '2026-03-01T09:00:00.000Z' }),
      account({ Name: 'Same Stamp B', SystemModstamp: stamp }),
      account({ Name: 'Same Stamp C', SystemModstamp: stamp }),
      account({ Name: 'Later D', SystemModstamp: '2026-03-01T11:00:00.000Z' }),
      account({ Name: 'Later E', SystemModstamp: '2026-03-01T11:00:00.000Z' }),
    ]);
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'salesforce-to-sap');
      const first = await (await start(prefix, { spec })).result();
      expect(first.counts).toMatchObject({ read: 5, created: 5, quarantined: 0 });
      for (const name of ['Page One A', 'Same Stamp B', 'Same Stamp C', 'Later D', 'Later E']) {
        expect(sapNamed(name)).toHaveLength(1);
      }
      for (const id of ids) expect(accountById(id).SAP_Customer_Number__c).toMatch(/^\d{10}$/);
      const state = await syncState(spec.name);
      // The write-backs of the SAP numbers are the newest changes; the cursor points at one of them.
      expect(state.cursor).toMatchObject({ system: 'salesforce' });
      expect(ids).toContain((state.cursor as Extract<SyncCursor, { system: 'salesforce' }>).id);

      // A second run re-reads a margin behind the cursor (lookback 1 h): nothing is created twice.
      const second = await (await start(prefix, { spec })).result();
      expect(second.counts.created).toBe(0);
      expect(second.counts.read).toBeGreaterThan(0);
      expect(env.sap.customers().filter((c) => c.KUNNR !== '0000100000')).toHaveLength(5);
    } finally {
      await workers.stop();
    }
  });

  it('Salesforce -> SAP through a Bulk API 2.0 query job above the threshold, results read by locator', async () => {
    const prefix = uniquePrefix('bulk');
    const stamp = '2026-03-02T10:00:00.000Z';
    env.salesforce.seed(
      'Account',
      ['Bulk 1', 'Bulk 2', 'Bulk 3'].map((Name) => account({ Name, SystemModstamp: stamp })),
    );
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'salesforce-to-sap', { bulkThreshold: 1 });
      const handle = await start(prefix, { spec });
      const result = await handle.result();
      expect(result.counts).toMatchObject({ read: 3, created: 3 });
      const paths = env.salesforce.core.requests.list().map((r) => r.path);
      expect(paths.some((p) => /\/jobs\/query\/[^/]+\/results$/.test(p))).toBe(true);
      expect(paths.filter((p) => p.endsWith('/results'))).toHaveLength(2); // maxRecords = 2: two sets
      for (const n of ['Bulk 1', 'Bulk 2', 'Bulk 3']) expect(sapNamed(n)).toHaveLength(1);
      expect((await handle.query(getSyncProgressQuery)).readVia).toBe('bulk');
    } finally {
      await workers.stop();
    }
  });

  it('quarantines a record SAP cannot take, alerts once with the count, and redrives it after the data is fixed', async () => {
    const prefix = uniquePrefix('quarantine');
    const [bad1, bad2] = env.salesforce.seed('Account', [
      account({ Name: 'No Country', BillingCountry: 'XX' }),
      account({ Name: 'No City', BillingCity: null }),
      account({ Name: 'Fine AG' }),
    ]);
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'salesforce-to-sap');
      const result = await (await start(prefix, { spec })).result();
      expect(result.counts).toMatchObject({ read: 3, created: 1, quarantined: 2 });
      const state = await syncState(spec.name);
      expect(state.quarantine.map((q) => q.recordId).sort()).toEqual([bad1, bad2].sort());
      expect(state.quarantine.find((q) => q.recordId === bad1)).toMatchObject({
        errorType: 'InvalidInput',
        direction: 'salesforce-to-sap',
        reason: expect.stringContaining('BillingCountry'),
      });
      const alerts = env.alerts.received.filter((a) => JSON.stringify(a.body).includes(spec.name));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.body.text).toContain('2 record(s) quarantined');

      env.salesforce.uiUpdate('Account', bad1!, { BillingCountry: 'AT' });
      const redrive = await (
        await start(prefix, { spec, mode: 'redrive', redrive: { recordIds: [bad1!] } })
      ).result();
      expect(redrive.counts).toMatchObject({ read: 1, created: 1, quarantined: 0 });
      expect(sapNamed('No Country')).toHaveLength(1);
      expect((await syncState(spec.name)).quarantine.map((q) => q.recordId)).toEqual([bad2]);
    } finally {
      await workers.stop();
    }
  });

  it('deletes travel both ways: a deleted Account flags its SAP customer, an SAP deletion flag deletes the Account', async () => {
    const prefix = uniquePrefix('deletes');
    const [keep, remove] = env.salesforce.seed('Account', [
      account({ Name: 'Keep KG' }),
      account({ Name: 'Remove KG' }),
    ]);
    const workers = await env.startWorkers(prefix);
    try {
      const sf2sap = specFor(prefix, 'salesforce-to-sap');
      const sap2sf = specFor(prefix, 'sap-to-salesforce');
      await (await start(prefix, { spec: sf2sap })).result();
      // The customers the coordinator created come back as change pointers: echoes, nothing written.
      const echoes = await (await start(prefix, { spec: sap2sf })).result();
      expect(echoes.counts).toMatchObject({ skipped: 2, created: 0, updated: 0 });

      env.salesforce.uiDelete('Account', remove!);
      const deleted = await (await start(prefix, { spec: sf2sap })).result();
      expect(deleted.counts.deleted).toBe(1);
      expect(sapNamed('Remove KG')[0]!.LOEVM).toBe('X');

      const keepNumber = String(accountById(keep!).SAP_Customer_Number__c);
      env.sap.changeCustomerAsDialogUser(keepNumber, { LOEVM: 'X' });
      const back = await (await start(prefix, { spec: sap2sf })).result();
      expect(back.counts.deleted).toBe(1);
      expect(env.salesforce.record('Account', keep!)?.IsDeleted).toBe(true);
      expect(env.sap.changePointers().every((p) => p.PROCESS === 'X')).toBe(true);
    } finally {
      await workers.stop();
    }
  });

  it('SAP -> Salesforce: new and changed customers become Accounts through sObject Collections; pointers are flagged processed only after the write', async () => {
    const prefix = uniquePrefix('sap2sf');
    const a = env.sap.createCustomerAsDialogUser({
      NAME1: 'Sap Only AG',
      ORT01: 'Hamburg',
      PSTLZ: '20095',
      STRAS: 'Kai 1',
    });
    const b = env.sap.createCustomerAsDialogUser({
      NAME1: 'Sap Two AG',
      ORT01: 'Bremen',
      PSTLZ: '28195',
      STRAS: 'Markt 2',
    });
    const c = env.sap.createCustomerAsDialogUser({
      NAME1: 'Sap Three AG',
      ORT01: 'Kiel',
      PSTLZ: '24103',
      STRAS: 'Hafen 3',
    });
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'sap-to-salesforce');
      const first = await (await start(prefix, { spec })).result();
      expect(first.counts).toMatchObject({ read: 3, created: 3 });
      const accounts = env.salesforce.records('Account');
      expect(
        accounts.map((x) => [x.Integration_Id__c, x.SAP_Customer_Number__c, x.BillingCity]).sort(),
      ).toEqual(
        [
          [`sap:${a.KUNNR}`, a.KUNNR, 'Hamburg'],
          [`sap:${b.KUNNR}`, b.KUNNR, 'Bremen'],
          [`sap:${c.KUNNR}`, c.KUNNR, 'Kiel'],
        ].sort(),
      );
      expect((await syncState(spec.name)).cursor).toMatchObject({
        system: 'sap',
        pointer: expect.stringMatching(/^\d{20}$/),
      });
      const collectionCalls = env.salesforce.core.requests
        .list()
        .filter((r) => r.path.includes('/composite/sobjects'));
      expect(collectionCalls.length).toBeGreaterThan(0);

      env.sap.changeCustomerAsDialogUser(a.KUNNR, { ORT01: 'Altona' });
      const second = await (await start(prefix, { spec })).result();
      expect(second.counts).toMatchObject({ read: 1, updated: 1, created: 0 });
      expect(
        env.salesforce.records('Account').find((x) => x.SAP_Customer_Number__c === a.KUNNR)!.BillingCity,
      ).toBe('Altona');
      expect(env.sap.changePointers().every((p) => p.PROCESS === 'X')).toBe(true);
    } finally {
      await workers.stop();
    }
  });

  it('parks when Salesforce usage passes the reserve, instead of failing, and resumes once the window has moved', async () => {
    const prefix = uniquePrefix('quota');
    env.salesforce.seed('Account', [account({ Name: 'Quota One' }), account({ Name: 'Quota Two' })]);
    env.salesforce.setApiUsage(950, 1000);
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'salesforce-to-sap');
      const handle = await start(prefix, { spec });
      const parked = await waitFor('the run to park', async () => {
        const p = await handle.query(getSyncProgressQuery);
        return p.phase === 'parked' ? p : undefined;
      });
      expect(parked.parked?.reason).toMatch(/past the batch reserve/);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // The rolling window moves on: yesterday's calls no longer count.
      env.salesforce.advanceApiUsageWindow(24 * 60 * 60 * 1000);
      const result = await handle.result();
      expect(result.counts).toMatchObject({ read: 2, created: 2 });
    } finally {
      await workers.stop();
    }
  });

  it('a REQUEST_LIMIT_EXCEEDED answer parks the run the same way', async () => {
    const prefix = uniquePrefix('limit');
    env.salesforce.seed('Account', [account({ Name: 'Limit One' })]);
    env.salesforce.setApiUsage(1000, 1000);
    const workers = await env.startWorkers(prefix);
    try {
      const handle = await start(prefix, { spec: specFor(prefix, 'salesforce-to-sap') });
      const parked = await waitFor('the run to park', async () => {
        const p = await handle.query(getSyncProgressQuery);
        return p.phase === 'parked' ? p : undefined;
      });
      expect(parked.parked?.reason).toBe('Salesforce answered REQUEST_LIMIT_EXCEEDED');
      env.salesforce.advanceApiUsageWindow(24 * 60 * 60 * 1000);
      expect((await handle.result()).counts.created).toBe(1);
    } finally {
      await workers.stop();
    }
  });

  it('a backfill of a time range syncs it and never moves the live cursor', async () => {
    const prefix = uniquePrefix('backfill');
    env.salesforce.seed('Account', [
      account({ Name: 'Old One', SystemModstamp: '2025-01-10T00:00:00.000Z' }),
      account({ Name: 'Old Two', SystemModstamp: '2025-01-20T00:00:00.000Z' }),
      account({ Name: 'Outside', SystemModstamp: '2025-06-01T00:00:00.000Z' }),
    ]);
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'salesforce-to-sap');
      const cursor: SyncCursor = {
        system: 'salesforce',
        systemModstamp: '2030-01-01T00:00:00.000Z',
        id: '001000000000000AAA',
      };
      await t.client.workflow.start('syncState', {
        workflowId: syncStateWorkflowId(spec.name),
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ name: spec.name, state: { name: spec.name, cursor, quarantine: [], runs: [] } }],
      });
      const result = await (
        await start(prefix, {
          spec,
          mode: 'backfill',
          backfill: { from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' },
        })
      ).result();
      expect(result.counts).toMatchObject({ read: 2, created: 2 });
      expect(sapNamed('Outside')).toHaveLength(0);
      expect((await syncState(spec.name)).cursor).toEqual(cursor);
    } finally {
      await workers.stop();
    }
  });

  it('continues as new before the history grows past the limit, carrying position and counts', async () => {
    const prefix = uniquePrefix('can');
    env.salesforce.seed(
      'Account',
      Array.from({ length: 12 }, (_, i) => account({ Name: `Can ${String(i).padStart(2, '0')}` })),
    );
    const workers = await env.startWorkers(prefix);
    try {
      const spec = specFor(prefix, 'salesforce-to-sap', { maxHistoryEvents: 60 });
      const handle = await start(prefix, { spec });
      const result = await handle.result();
      expect(result.counts).toMatchObject({ read: 12, created: 12 });
      const progress = await t.client.workflow.getHandle(handle.workflowId).query(getSyncProgressQuery);
      expect(progress.continuedAsNew).toBeGreaterThan(0);
      expect(env.sap.customers().filter((c) => c.NAME1.startsWith('Can '))).toHaveLength(12);
    } finally {
      await workers.stop();
    }
  });

  it('reads each record once whatever the history limit: no continue-as-new after the last page', async () => {
    // Where a run continues as new depends on its history's length. Continuing after the last page
    // started the next run on a fresh query after the cursor, which returned the run's own write-backs
    // (read again and skipped): 16 or 18 reads for 12 records at some of these limits.
    const outcomes: string[] = [];
    for (let maxHistoryEvents = 30; maxHistoryEvents <= 78; maxHistoryEvents += 6) {
      env.salesforce.reset();
      env.sap.reset();
      const prefix = uniquePrefix(`once${maxHistoryEvents}`);
      env.salesforce.seed(
        'Account',
        Array.from({ length: 12 }, (_, i) => account({ Name: `Once ${String(i).padStart(2, '0')}` })),
      );
      const workers = await env.startWorkers(prefix);
      try {
        const handle = await start(prefix, {
          spec: specFor(prefix, 'salesforce-to-sap', { maxHistoryEvents }),
        });
        const result = await handle.result();
        // Each limit is low enough for the run to continue as new at least once, so the sweep exercises
        // the decision at every point the history can reach it.
        const { continuedAsNew } = await t.client.workflow
          .getHandle(handle.workflowId)
          .query(getSyncProgressQuery);
        outcomes.push(
          `limit ${maxHistoryEvents}: read ${result.counts.read}, created ${result.counts.created}, skipped ${result.counts.skipped}, SAP ${env.sap.customers().filter((c) => c.NAME1.startsWith('Once ')).length}, continued ${continuedAsNew > 0}`,
        );
      } finally {
        await workers.stop();
      }
    }
    expect(outcomes).toEqual(
      Array.from(
        { length: 9 },
        (_, i) => `limit ${30 + 6 * i}: read 12, created 12, skipped 0, SAP 12, continued true`,
      ),
    );
  }, 300_000);
});
