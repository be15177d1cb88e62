import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySyncSchedules } from '../../src/schedules/apply';
import type { ConfiguredSync } from '../../src/schedules/specs';
import { syncScheduleId } from '../../src/workflows/batch-sync.messages';
import type { SyncSpec } from '../../src/workflows/batch-sync.messages';
import { startApi } from '../support/api';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('sync API and Schedules', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('syncapi');
  const spec = (direction: SyncSpec['direction']): SyncSpec => ({
    name: `${prefix}-${direction}`,
    direction,
    object: 'customer',
    pageSize: 50,
    bulkThreshold: 1000,
    lookbackSeconds: 60,
    quotaReserve: 0.9,
    parkCheckSeconds: 1,
    maxHistoryEvents: 2000,
    bulkPollMs: 20,
  });
  const syncs: ConfiguredSync[] = [
    { spec: spec('salesforce-to-sap'), every: '1h', paused: false },
    { spec: spec('sap-to-salesforce'), every: '1h', paused: true },
  ];
  const sf2sap = syncs[0]!.spec.name;

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, { taskQueuePrefix: prefix, syncs });
  });
  afterAll(async () => {
    for (const s of syncs)
      await t.client.schedule
        .getHandle(syncScheduleId(s.spec.name))
        .delete()
        .catch(() => undefined);
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  it("creates the Schedules once and updates them idempotently, keeping the operators' paused state; overlap SKIP", async () => {
    const first = await applySyncSchedules(t.client, syncs, prefix);
    expect(first.created).toEqual([
      ...syncs.map((s) => syncScheduleId(s.spec.name)),
      'reconciliation:customers',
    ]);
    const handle = t.client.schedule.getHandle(syncScheduleId(sf2sap));
    expect((await api.call('POST', `/v1/syncs/${sf2sap}/pause`)).body).toEqual({
      name: sf2sap,
      paused: true,
    });
    const second = await applySyncSchedules(t.client, syncs, prefix);
    expect(second).toEqual({ created: [], updated: first.created });
    const d = await handle.describe();
    expect(d.state.paused).toBe(true);
    expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'batchSync' });
    expect((await api.call('POST', `/v1/syncs/${sf2sap}/resume`)).body.paused).toBe(false);
    expect((await handle.describe()).state.paused).toBe(false);
  });

  it('trigger now runs the sync; its status shows the last run, cursor, counts and lag', async () => {
    env.salesforce.seed('Account', [
      {
        Name: 'Api Sync AG',
        BillingStreet: 'Weg 1',
        BillingCity: 'Bonn',
        BillingPostalCode: '53111',
        BillingCountry: 'DE',
      },
      {
        Name: 'Api Broken AG',
        BillingStreet: 'Weg 2',
        BillingCity: 'Bonn',
        BillingPostalCode: '53111',
        BillingCountry: 'ZZ',
      },
    ]);
    await applySyncSchedules(t.client, syncs, prefix);
    expect((await api.call('POST', `/v1/syncs/${sf2sap}/trigger`)).status).toBe(202);
    const status = await waitFor(
      'the triggered run to finish',
      async () => {
        const res = await api.call('GET', `/v1/syncs/${sf2sap}`);
        return res.body.lastRun ? res.body : undefined;
      },
      30_000,
    );
    expect(status).toMatchObject({
      name: sf2sap,
      direction: 'salesforce-to-sap',
      cursor: { system: 'salesforce' },
      quarantined: 1,
      lastRun: { mode: 'live', counts: { created: 1, quarantined: 1 } },
    });
    expect(status.lagSeconds).toBeGreaterThanOrEqual(0);
    const list = await api.call('GET', '/v1/syncs');
    expect(list.body.syncs.map((s: { name: string }) => s.name)).toEqual(syncs.map((s) => s.spec.name));

    const quarantine = await api.call('GET', `/v1/syncs/${sf2sap}/quarantine`);
    expect(quarantine.body.records).toEqual([
      expect.objectContaining({
        errorType: 'InvalidInput',
        reason: expect.stringContaining('BillingCountry'),
      }),
    ]);
    const id = quarantine.body.records[0].recordId as string;
    env.salesforce.uiUpdate('Account', id, { BillingCountry: 'FR' });
    const redrive = await api.call('POST', `/v1/syncs/${sf2sap}/quarantine/redrive`, { recordIds: [id] });
    expect(redrive.status).toBe(202);
    await t.client.workflow.getHandle(redrive.body.workflowId).result();
    expect((await api.call('GET', `/v1/syncs/${sf2sap}/quarantine`)).body.records).toEqual([]);
  });

  it('bad input is a 400 with the reason and starts nothing: backfill from > to, unknown sync, bad cursor', async () => {
    const reversed = await api.call('POST', `/v1/syncs/${sf2sap}/backfill`, {
      from: '2026-02-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
    });
    expect(reversed.status).toBe(400);
    expect(JSON.stringify(reversed.body)).toContain('from must be before to');
    const notDate = await api.call('POST', `/v1/syncs/${sf2sap}/backfill`, {
      from: 'yesterday',
      to: '2026-01-01T00:00:00Z',
    });
    expect(notDate.status).toBe(400);
    const unknown = await api.call('POST', '/v1/syncs/no-such-sync/backfill', {
      from: '2026-01-01T00:00:00Z',
      to: '2026-02-01T00:00:00Z',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('unknown_sync');
    expect((await api.call('GET', '/v1/syncs/no-such-sync')).status).toBe(404);
    const badCursor = await api.call('PUT', `/v1/syncs/${sf2sap}/cursor`, {
      cursor: { system: 'salesforce', systemModstamp: 'not-a-time', id: '001' },
    });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toBe('invalid_cursor');
    const wrongSystem = await api.call('PUT', `/v1/syncs/${sf2sap}/cursor`, {
      cursor: { system: 'sap', createdAt: '2026-01-01T00:00:00Z', pointer: '1' },
    });
    expect(wrongSystem.status).toBe(400);
    const runs = [];
    for await (const wf of t.client.workflow.list({
      query: `WorkflowId STARTS_WITH 'sync-backfill:${sf2sap}'`,
    }))
      runs.push(wf);
    expect(runs).toEqual([]);
  });

  it('starts a reconciliation and serves its report', async () => {
    const started = await api.call('POST', '/v1/reconciliations', { selfHeal: false });
    expect(started.status).toBe(202);
    await t.client.workflow.getHandle(started.body.workflowId).result();
    const report = await api.call('GET', started.body.statusUrl);
    expect(report.body).toMatchObject({
      status: 'COMPLETED',
      report: { name: 'customers', selfHeal: false },
    });
    expect((await api.call('POST', '/v1/reconciliations', { selfHeal: 'yes' })).status).toBe(400);
  });

  it('sets the cursor (operators rewind) and backfills a range without moving it', async () => {
    const cursor = {
      system: 'salesforce',
      systemModstamp: '2030-01-01T00:00:00.000Z',
      id: '001000000000000AAA',
    };
    const put = await api.call('PUT', `/v1/syncs/${sf2sap}/cursor`, { cursor });
    expect(put.body).toEqual({ name: sf2sap, cursor });
    const backfill = await api.call('POST', `/v1/syncs/${sf2sap}/backfill`, {
      from: '2020-01-01T00:00:00Z',
      to: '2029-01-01T00:00:00Z',
    });
    expect(backfill.status).toBe(202);
    const result = await t.client.workflow.getHandle(backfill.body.workflowId).result();
    expect(result).toMatchObject({ mode: 'backfill', cursor });
    expect((await api.call('GET', `/v1/syncs/${sf2sap}`)).body.cursor).toEqual(cursor);
  });
});
