import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsActivities } from '../../src/activities';
import { startApi } from '../support/api';
import { startFlakyEndpoint } from '../support/flaky-server';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';
import { startWorkers } from '../support/workers';
import type { RunningWorkers } from '../support/workers';

describe('API: health, starting a run and reading its status', () => {
  let t: TemporalTestContext;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: RunningWorkers;
  const prefix = uniquePrefix('api');

  beforeAll(async () => {
    t = await connectTemporal();
    api = await startApi(t.client, { taskQueuePrefix: prefix });
    workers = await startWorkers(t, { prefix, activities: { ops: createOpsActivities() } });
  });
  afterAll(async () => {
    await workers.stop();
    await api.close();
    await t.close();
  });

  it('GET /healthz answers 200 with the Temporal connection state', async () => {
    const res = await api.call('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', temporal: { connected: true, namespace: t.namespace } });
  });

  it('GET /healthz answers 503 when Temporal cannot be reached', async () => {
    const deadClient = new Client({
      connection: Connection.lazy({ address: '127.0.0.1:1' }),
      namespace: 'default',
    });
    const down = await startApi(deadClient, { taskQueuePrefix: prefix });
    try {
      const res = await down.call('GET', '/healthz');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.temporal.connected).toBe(false);
    } finally {
      await down.close();
    }
  });

  it('rejects /v1 calls without the bearer token, and with a wrong one', async () => {
    const none = await fetch(`${api.baseUrl}/v1/runs/anything`);
    expect(none.status).toBe(401);
    const wrong = await api.call('GET', '/v1/runs/anything', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('unauthorized');
  });

  it('a connectivity check started through the API completes and its status shows the result', async () => {
    const endpoint = await startFlakyEndpoint(1);
    const checks = await startApi(t.client, {
      taskQueuePrefix: prefix,
      connectivityTargets: [{ system: 'flaky', url: endpoint.url }],
    });
    try {
      const started = await checks.call('POST', '/v1/connectivity-checks', {});
      expect(started.status).toBe(202);
      expect(started.body.workflowId).toMatch(/^connectivity-check:/);
      expect(started.body.statusUrl).toBe(`/v1/runs/${encodeURIComponent(started.body.workflowId)}`);

      const done = await waitFor('the run to complete', async () => {
        const res = await api.call('GET', started.body.statusUrl);
        return res.body.status === 'COMPLETED' ? res : undefined;
      });
      expect(done.status).toBe(200);
      expect(done.body.runId).toBe(started.body.runId);
      expect(done.body.workflowType).toBe('connectivityCheck');
      expect(done.body.result.results[0]).toMatchObject({ system: 'flaky', status: 200, attempts: 2 });
      expect(done.body.webUiUrl).toBe(
        `http://127.0.0.1:8233/namespaces/${t.namespace}/workflows/${encodeURIComponent(started.body.workflowId)}/${started.body.runId}/history`,
      );
    } finally {
      await checks.close();
      await endpoint.close();
    }
  });

  it('answers 400 with every field error for an invalid body, and starts nothing', async () => {
    const res = await api.call('POST', '/v1/connectivity-checks', {
      systems: ['unknown'],
      extra: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { path: string }) => d.path).sort()).toEqual(
      ['(body)', 'systems.0'].sort(),
    );
  });

  it('answers 404 for an unknown run', async () => {
    const res = await api.call('GET', `/v1/runs/${prefix}-missing`);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});
