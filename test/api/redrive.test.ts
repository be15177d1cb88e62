import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveRun, RedriveError } from '../../src/runs/redrive';
import { DEV_WEBHOOK_SECRET } from '../../src/simulators/webhook-consumer';
import { notificationWorkflowId } from '../../src/workflows/notification-delivery.messages';
import type { notificationDelivery } from '../../src/workflows/notification-delivery';
import type { accountSync } from '../../src/workflows/account-sync';
import { taskQueueName } from '../../src/workflows/shared/task-queues';
import { flows } from '../../src/workflows/workflow-types';
import { startApi } from '../support/api';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * Redrive through the flows registry: every flow is redriven as its definition says, by the one
 * function the API and bulk redrives share (src/runs/redrive.ts).
 */
describe('redrive per flow (flows registry)', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('redrive');
  const workflowQueue = taskQueueName(prefix, 'coordinator');

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(
      t,
      {},
      {
        webhooks: {
          endpoints: [
            { name: 'default', secret: DEV_WEBHOOK_SECRET },
            { name: 'second', secret: DEV_WEBHOOK_SECRET },
          ],
        },
      },
    );
    // A second subscriber on the consumer simulator's second endpoint (its URL is known once it listens).
    const [consumer] = env.config.WEBHOOK_SUBSCRIBERS;
    env.config.WEBHOOK_SUBSCRIBERS.push({
      ...consumer!,
      name: 'second',
      url: consumer!.url.replace('/hooks/default', '/hooks/second'),
    });
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, { taskQueuePrefix: prefix });
  });
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  it('a failed notification run is redriven to the subscriber that refused it, under the same webhook-id', async () => {
    const sourceKey = uniquePrefix('order-event');
    const type = 'order.updated';
    env.webhooks.core.faults.failNext('gone', 1, { path: '/hooks/second' });
    const workflowId = notificationWorkflowId(sourceKey, type);
    const first = await t.client.workflow.start<typeof notificationDelivery>('notificationDelivery', {
      workflowId,
      taskQueue: workflowQueue,
      args: [{ sourceKey, type, data: { id: sourceKey }, occurredAt: new Date().toISOString() }],
    });
    await expect(first.result()).rejects.toThrow();

    const redrive = await api.call('POST', `/v1/runs/${encodeURIComponent(workflowId)}/redrive`);
    expect(redrive.status).toBe(202);
    expect(redrive.body).toMatchObject({
      redrive: 'restarted',
      workflowId,
      previousRunId: first.firstExecutionRunId,
    });
    const result = await t.client.workflow.getHandle(workflowId, redrive.body.runId).result();
    expect(result.deliveries).toEqual([
      expect.objectContaining({ subscriber: 'second', status: 'delivered' }),
    ]);

    const ours = env.webhooks.deliveries({ type }).filter((d) => (d.body as any)?.data?.id === sourceKey);
    const toDefault = ours.filter((d) => d.endpoint === 'default');
    const toSecond = ours.filter((d) => d.endpoint === 'second');
    // The subscriber that took it the first time is not sent it again.
    expect(toDefault.map((d) => d.status)).toEqual([200]);
    expect(toSecond.map((d) => d.status)).toEqual([410, 200]);
    expect(toSecond[1]!.webhookId).toBe(toSecond[0]!.webhookId);
  });

  it('an entity workflow is not redriven: 409 saying what to do instead, and the run is untouched', async () => {
    const workflowId = uniquePrefix('account:001');
    const handle = await t.client.workflow.start<typeof accountSync>('accountSync', {
      workflowId,
      taskQueue: workflowQueue,
      args: [{ route: { workflowType: 'accountSync', workflowId, key: workflowId } } as any],
    });
    // Closed either way: terminated here, or failed already on this made-up route.
    await handle.terminate('test: a closed entity run').catch(() => undefined);
    const res = await api.call('POST', `/v1/runs/${encodeURIComponent(workflowId)}/redrive`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'not_redrivable' });
    expect(res.body.message).toContain('the next event for its record starts it again');
    await expect(redriveRun(t.client, { workflowQueue }, workflowId)).rejects.toBeInstanceOf(RedriveError);
    expect((await handle.describe()).runId).toBe(handle.firstExecutionRunId);
  });

  it('a run of another task queue is not found, whatever its type', async () => {
    const workflowId = uniquePrefix('notification:foreign');
    const handle = await t.client.workflow.start<typeof notificationDelivery>('notificationDelivery', {
      workflowId,
      taskQueue: `${prefix}-other.coordinator`,
      args: [{ sourceKey: workflowId, type: 'x', data: {}, occurredAt: new Date().toISOString() }],
    });
    await handle.terminate('test');
    const refused = await redriveRun(t.client, { workflowQueue }, workflowId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RedriveError);
    expect((refused as RedriveError).code).toBe('not_found');
  });

  it('GET /v1/runs?type= lists the runs of any flow of the registry and rejects an unknown type', async () => {
    const listed = await waitFor('the notification runs in the list', async () => {
      const res = await api.call('GET', '/v1/runs?type=notificationDelivery&status=COMPLETED');
      return res.body.runs?.length ? res.body.runs : undefined;
    });
    expect(listed.every((r: any) => r.workflowType === 'notificationDelivery')).toBe(true);
    expect((await api.call('GET', '/v1/runs?type=noSuchFlow')).status).toBe(400);
  });

  it('every flow of the registry says whether and how it is redriven', () => {
    for (const [type, flow] of Object.entries(flows)) {
      if (flow.redrive.kind === 'refuse') expect(flow.redrive.reason.length, type).toBeGreaterThan(40);
      else expect(flow.lifetime, type).toBe('one-shot');
    }
  });
});
