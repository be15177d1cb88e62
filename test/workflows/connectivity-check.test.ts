import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsActivities } from '../../src/activities';
import { createWorkerSet } from '../../src/workers/worker-set';
import type { connectivityCheck } from '../../src/workflows/connectivity-check';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/task-queues';
import { startFlakyEndpoint } from '../support/flaky-server';
import { connectTemporal, uniquePrefix, workflowBundle } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('connectivityCheck workflow on a real Temporal server', () => {
  let t: TemporalTestContext;
  beforeAll(async () => {
    t = await connectTemporal();
  });
  afterAll(async () => {
    await t.close();
  });

  it('retries a probe that fails twice and records three attempts in the history', async () => {
    const endpoint = await startFlakyEndpoint(2);
    const prefix = uniquePrefix('conn');
    const set = await createWorkerSet({
      connection: t.nativeConnection,
      namespace: t.namespace,
      taskQueuePrefix: prefix,
      activities: { ops: createOpsActivities() },
      workflowBundle: await workflowBundle(),
    });
    try {
      const handle = await t.client.workflow.start<typeof connectivityCheck>('connectivityCheck', {
        workflowId: `${prefix}-check`,
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ targets: [{ system: 'flaky', url: endpoint.url }] }],
      });
      const running = set.run();
      const result = await handle.result();
      set.shutdown();
      await running;

      expect(result.results).toEqual([
        { system: 'flaky', url: endpoint.url, status: 200, attempts: 3, latencyMs: expect.any(Number) },
      ]);
      expect(endpoint.hits()).toBe(3);

      const history = await handle.fetchHistory();
      const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
      expect(started).toHaveLength(1);
      // Temporal records one ActivityTaskStarted per activity with the final attempt number.
      expect(started[0]!.activityTaskStartedEventAttributes!.attempt).toBe(3);
      expect(started[0]!.activityTaskStartedEventAttributes!.lastFailure?.applicationFailureInfo?.type).toBe(
        'SystemUnavailable',
      );
    } finally {
      set.shutdown();
      await endpoint.close();
    }
  });
});
