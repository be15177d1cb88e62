import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsActivities } from '../../src/activities';
import type { connectivityCheck } from '../../src/workflows/connectivity-check';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startFlakyEndpoint } from '../support/flaky-server';
import { connectTemporal, uniquePrefix } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';
import { withWorkers } from '../support/workers';

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
    try {
      const handle = await t.client.workflow.start<typeof connectivityCheck>('connectivityCheck', {
        workflowId: `${prefix}-check`,
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ targets: [{ system: 'flaky', url: endpoint.url }] }],
      });
      const result = await withWorkers(t, { prefix, activities: { ops: createOpsActivities() } }, () =>
        handle.result(),
      );

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
      await endpoint.close();
    }
  });
});
