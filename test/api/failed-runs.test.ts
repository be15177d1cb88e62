import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { customerCreation } from '../../src/workflows/customer-creation';
import { customerCreationStartOptions } from '../../src/workflows/customer-creation.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startApi } from '../support/api';
import { customerBody } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('GET /v1/failed-runs: failed runs by flow, time and failure type, with paging', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('failedruns');
  const workflowQueue = taskQueueName(prefix, coordinatorQueue);
  const rejected: string[] = [];
  let invalid = '';
  let startedAt = '';

  const customer = (label: string, country: string) =>
    customerBody(label, { address: { street: '1 Main St', city: 'Reykjavik', postalCode: '101', country } });

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, { taskQueuePrefix: prefix });
    startedAt = new Date(Date.now() - 1000).toISOString();
    // Three runs SAP rejects (a country it has not configured: SapBusinessError, compensated) ...
    for (let i = 0; i < 3; i++) {
      const res = await api.call('POST', '/v1/customers', customer(`rej${i}`, 'IS'));
      expect(res.status).toBe(202);
      rejected.push(res.body.workflowId as string);
    }
    // ... and one whose input the workflow refuses (InvalidInput), started past the API's validation.
    const bad = { ...customer('inv', 'GB'), email: 'not-an-email' };
    const handle = await t.client.workflow.start<typeof customerCreation>('customerCreation', {
      ...customerCreationStartOptions(bad as never, workflowQueue),
      args: [{ customer: bad as never }],
    });
    invalid = handle.workflowId;
    await waitFor('the four runs to be listed as failed', async () => {
      let n = 0;
      for await (const _ of t.client.workflow.list({
        query: `TaskQueue = '${workflowQueue}' AND ExecutionStatus = 'Failed'`,
      }))
        n += 1;
      return n === 4 ? true : undefined;
    });
  });
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  it('pages through every failed run with nextPageToken, each with its failure type and message', async () => {
    const first = await api.call('GET', '/v1/failed-runs?pageSize=3');
    expect(first.status).toBe(200);
    expect(first.body.runs).toHaveLength(3);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const second = await api.call(
      'GET',
      `/v1/failed-runs?pageSize=3&pageToken=${encodeURIComponent(first.body.nextPageToken)}`,
    );
    expect(second.status).toBe(200);
    expect(second.body.nextPageToken).toBeUndefined();
    // A token continues the query it came from, not another one.
    const elsewhere = await api.call(
      'GET',
      `/v1/failed-runs?pageSize=3&flow=customer-creation&pageToken=${encodeURIComponent(first.body.nextPageToken)}`,
    );
    expect(elsewhere.status).toBe(400);
    const all = [...first.body.runs, ...second.body.runs];
    expect(all.map((r: { workflowId: string }) => r.workflowId).sort()).toEqual(
      [...rejected, invalid].sort(),
    );
    for (const run of all) {
      expect(run).toMatchObject({ workflowType: 'customerCreation', runId: expect.any(String) });
      expect(Date.parse(run.closeTime)).toBeGreaterThanOrEqual(Date.parse(run.startTime));
    }
    const byId = new Map(all.map((r: { workflowId: string }) => [r.workflowId, r]));
    expect(byId.get(invalid)).toMatchObject({ failureType: 'InvalidInput' });
    for (const id of rejected) {
      expect(byId.get(id)).toMatchObject({ failureType: 'SapBusinessError' });
      // Decrypted through the client's codec: the operator reads SAP's own message.
      expect((byId.get(id) as unknown as { failureMessage: string }).failureMessage).toMatch(/IS/);
    }
  });

  it('filters by failure type, flow and close-time range', async () => {
    const sap = await api.call('GET', '/v1/failed-runs?failureType=SapBusinessError&pageSize=100');
    expect(sap.body.runs.map((r: { workflowId: string }) => r.workflowId).sort()).toEqual(
      [...rejected].sort(),
    );
    const inv = await api.call('GET', '/v1/failed-runs?failureType=InvalidInput');
    expect(inv.body.runs.map((r: { workflowId: string }) => r.workflowId)).toEqual([invalid]);
    const flow = await api.call('GET', '/v1/failed-runs?flow=customer-creation&pageSize=100');
    expect(flow.body.runs).toHaveLength(4);
    const otherFlow = await api.call('GET', '/v1/failed-runs?flow=order-sync');
    expect(otherFlow.body.runs).toEqual([]);
    const inWindow = await api.call(
      'GET',
      `/v1/failed-runs?from=${encodeURIComponent(startedAt)}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&pageSize=100`,
    );
    expect(inWindow.body.runs).toHaveLength(4);
    const before = await api.call('GET', `/v1/failed-runs?to=${encodeURIComponent(startedAt)}`);
    expect(before.body.runs).toEqual([]);
  });

  it('bulk redrive by query: each matching run is redriven once through its flow, at the bounded rate, with progress', async () => {
    const before = await api.call('GET', '/v1/failed-runs?pageSize=100');
    const failedRunId = new Map(
      (before.body.runs as { workflowId: string; runId: string }[]).map((r) => [r.workflowId, r.runId]),
    );
    for (const body of [{ ratePerSecond: 0 }, { ratePerSecond: 51 }, { maxRuns: 0 }, { status: 'FAILED' }]) {
      expect((await api.call('POST', '/v1/failed-runs/redrive', body)).status, JSON.stringify(body)).toBe(
        400,
      );
    }
    const started = await api.call('POST', '/v1/failed-runs/redrive', {
      failureType: 'SapBusinessError',
      ratePerSecond: 4,
    });
    expect(started.status).toBe(202);
    const done = await waitFor('the bulk redrive to finish', async () => {
      const res = await api.call('GET', started.body.statusUrl);
      return res.body.status === 'COMPLETED' ? res.body : undefined;
    });
    expect(done.progress).toMatchObject({ phase: 'done', found: 3, redriven: 3, refused: {}, errors: 0 });
    const starts: number[] = [];
    for (const id of rejected) {
      const d = await t.client.workflow.getHandle(id).describe();
      // A new run under the same id, started with the original input (SAP rejects it again).
      expect(d.runId).not.toBe(failedRunId.get(id));
      starts.push(d.startTime.getTime());
    }
    starts.sort((a, b) => a - b);
    // At most 4 per second: a durable 250 ms timer between two redrives.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(240);
    // The run of another failure type is left alone.
    expect((await t.client.workflow.getHandle(invalid).describe()).runId).toBe(failedRunId.get(invalid));
    expect((await api.call('GET', '/v1/failed-runs/redrive/bulk-redrive:no-such')).status).toBe(404);
  });

  it('answers 400 for parameters out of range and page tokens that are not ours', async () => {
    for (const q of [
      'pageSize=0',
      'pageSize=101',
      'from=yesterday',
      'from=2026-12-02T10:00:00Z&to=2026-12-01T10:00:00Z',
      'failureType=bad%20type',
      'pageToken=not*a*token',
      'pageToken=AAAAAAAA',
      'pageToken=AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA',
      'limit=5',
    ]) {
      const res = await api.call('GET', `/v1/failed-runs?${q}`);
      expect(res.status, q).toBe(400);
    }
  });
});
