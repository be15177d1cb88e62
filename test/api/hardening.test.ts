import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsActivities } from '../../src/activities';
import { createWorkerSet } from '../../src/workers/worker-set';
import type { WorkerSet } from '../../src/workers/worker-set';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startApi } from '../support/api';
import { startFlakyEndpoint } from '../support/flaky-server';
import { connectTemporal, uniquePrefix, workflowIdsOn, waitFor, workflowBundle } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * The holes an outside test found in the API (server-side request forgery through connectivity checks,
 * control characters reaching visibility queries, cancelling workflows that are not this service's, empty
 * ids, 404 for a wrong method), each reproduced over HTTP against a real Temporal server.
 */
describe('API hardening', () => {
  let t: TemporalTestContext;
  let api: Awaited<ReturnType<typeof startApi>>;
  let endpoint: Awaited<ReturnType<typeof startFlakyEndpoint>>;
  let set: WorkerSet;
  let running: Promise<void>;
  const prefix = uniquePrefix('harden');

  /** Workflow ids of connectivity checks started so far under this test's queue. */
  const checksStarted = () => workflowIdsOn(t.client, taskQueueName(prefix, coordinatorQueue));

  beforeAll(async () => {
    t = await connectTemporal();
    endpoint = await startFlakyEndpoint(0);
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      connectivityTargets: [{ system: 'configured', url: endpoint.url }],
      connectivityCheckLimit: { max: 3, windowMs: 60_000 },
    });
    set = await createWorkerSet({
      connection: t.nativeConnection,
      dataConverter: t.dataConverter,
      namespace: t.namespace,
      taskQueuePrefix: prefix,
      activities: { ops: createOpsActivities() },
      workflowBundle: await workflowBundle(),
    });
    running = set.run();
  });
  afterAll(async () => {
    set?.shutdown();
    await running;
    await api?.close();
    await endpoint?.close();
    await t?.close();
  });

  describe('connectivity checks probe only configured systems, and are rate limited', () => {
    it('refuses a caller-supplied URL with 400 and starts nothing', async () => {
      const res = await api.call('POST', '/v1/connectivity-checks', {
        targets: [{ system: 'metadata', url: 'http://169.254.169.254/latest/meta-data/' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      const unknown = await api.call('POST', '/v1/connectivity-checks', { systems: ['not-configured'] });
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.body.details)).toContain('configured');
      expect(await checksStarted()).toEqual([]);
    });

    it('probes a configured system named by the caller, then answers 429 with Retry-After', async () => {
      const first = await api.call('POST', '/v1/connectivity-checks', { systems: ['configured'] });
      expect(first.status).toBe(202);
      const done = await waitFor('the check to complete', async () => {
        const res = await api.call('GET', first.body.statusUrl);
        return res.body.status === 'COMPLETED' ? res : undefined;
      });
      expect(done.body.result.results).toEqual([
        expect.objectContaining({ system: 'configured', url: endpoint.url, status: 200 }),
      ]);
      // The limit is 3 per window for this app; the refused calls (400) above count nothing.
      expect((await api.call('POST', '/v1/connectivity-checks')).status).toBe(202);
      expect((await api.call('POST', '/v1/connectivity-checks', {})).status).toBe(202);
      const limited = await api.call('POST', '/v1/connectivity-checks', {});
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.body.error).toBe('rate_limited');
      // Visibility is eventually consistent on a cluster (SQL visibility is written after the start):
      // wait until the three accepted starts are listed, then check that no fourth one was started.
      const started = await waitFor('the three accepted checks to be listed', async () => {
        const ids = await checksStarted();
        return ids.length >= 3 ? ids : undefined;
      });
      expect(started.length).toBe(3);
    });
  });

  describe('query and path parameters', () => {
    it('a NUL byte in businessKey is a 400 at once, not a 500 after the client retried', async () => {
      const started = Date.now();
      const res = await api.call('GET', '/v1/runs?businessKey=a%00b');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it.each([
      ['a control character in a query value', '/v1/runs?businessKey=x%07y'],
      ['an over-long query value', `/v1/runs?businessKey=${'k'.repeat(256)}`],
      ['a control character in a workflow id', '/v1/runs/abc%0Adef'],
      ['a NUL in a workflow id', '/v1/runs/abc%00def'],
      ['an over-long workflow id', `/v1/runs/${'w'.repeat(300)}`],
      ['an unknown query parameter', '/v1/runs?sort=asc'],
    ])('%s is refused with 400', async (_what, path) => {
      const res = await api.call('GET', path);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('quotes, backslashes and multi-byte values still work', async () => {
      const res = await api.call('GET', `/v1/runs?businessKey=${encodeURIComponent(`O'Brien \\ Zoë 東京`)}`);
      expect(res.status).toBe(200);
      expect(res.body.runs).toEqual([]);
    });

    it('an empty workflow id is refused, never a 500', async () => {
      expect((await api.call('GET', '/v1/runs/')).status).toBe(400);
      expect((await api.call('POST', '/v1/runs//cancel')).status).toBe(400);
      expect((await api.call('POST', '/v1/runs//redrive')).status).toBe(400);
    });
  });

  describe("cancel and redrive act only on this service's runs", () => {
    it('a workflow of the namespace that is not ours is not found, and is not cancelled', async () => {
      // Another application's workflow in the same namespace (no worker: it just stays RUNNING).
      const foreign = await t.client.workflow.start('someoneElsesWorkflow', {
        workflowId: `${prefix}-foreign`,
        taskQueue: `${prefix}-other-app`,
      });
      try {
        for (const path of ['', '/cancel', '/redrive']) {
          const res = await api.call(path ? 'POST' : 'GET', `/v1/runs/${foreign.workflowId}${path}`);
          expect(res.status).toBe(404);
          expect(res.body.error).toBe('not_found');
        }
        const d = await foreign.describe();
        expect(d.status.name).toBe('RUNNING');
        const history = await foreign.fetchHistory();
        expect(
          history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes),
          'no cancellation was requested',
        ).toBe(false);
      } finally {
        await foreign.terminate('test cleanup');
      }
    });

    it('the same workflow type on another deployment’s queue is not ours either', async () => {
      const other = await t.client.workflow.start('connectivityCheck', {
        workflowId: `${prefix}-other-deployment`,
        taskQueue: taskQueueName(`${prefix}-other`, coordinatorQueue),
        args: [{ targets: [] }],
      });
      try {
        expect((await api.call('POST', `/v1/runs/${other.workflowId}/cancel`)).status).toBe(404);
        expect((await other.describe()).status.name).toBe('RUNNING');
      } finally {
        await other.terminate('test cleanup').catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      }
    });

    it('lists only this service’s runs', async () => {
      const res = await api.call('GET', '/v1/runs?limit=200');
      expect(res.status).toBe(200);
      expect(res.body.runs.length).toBeGreaterThan(0);
      for (const run of res.body.runs) expect(run.workflowType).toBe('connectivityCheck');
    });
  });

  describe('methods', () => {
    it.each([
      ['DELETE', '/v1/runs/some-id', 'GET, HEAD'],
      ['PUT', '/v1/customers', 'POST'],
      ['GET', '/v1/runs/some-id/cancel', 'POST'],
      ['POST', '/openapi.json', 'GET, HEAD'],
    ])('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
      const res = await api.call(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.body.error).toBe('method_not_allowed');
    });

    it('an unknown path is still 404', async () => {
      expect((await api.call('GET', '/v1/nothing-here')).status).toBe(404);
    });
  });
});
