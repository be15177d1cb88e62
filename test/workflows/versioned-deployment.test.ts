import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerSchema } from '../../src/domain/customer';
import { buildActivities } from '../../src/workers/dependencies';
import { createWorkerSet } from '../../src/workers/worker-set';
import type { WorkerSet } from '../../src/workers/worker-set';
import type { customerCreation } from '../../src/workflows/customer-creation';
import { customerCreationStartOptions } from '../../src/workflows/customer-creation.messages';
import type { EntityEvent, EntitySyncInput } from '../../src/workflows/entity-sync.messages';
import {
  entityEventSignal,
  getEntityStateQuery,
  routeEntityEvent,
} from '../../src/workflows/entity-sync.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor, workflowBundle } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * Worker Versioning as production uses it (WORKER_DEPLOYMENT_NAME / WORKER_BUILD_ID): build v1 runs,
 * build v2 (a changed customerCreation, test/support/workflows-v2.ts) is deployed and made current
 * while v1's runs are in flight. Short flows finish on the build they started on; the long-lived
 * entity workflow moves to v2 at continue-as-new, at its next event.
 */
describe('versioned deployments', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let v2Bundle: WorkflowBundleWithSourceMap;
  const sets: { set: WorkerSet; running: Promise<void> }[] = [];

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    v2Bundle = await bundleWorkflowCode({
      workflowsPath: resolve(__dirname, '../support/workflows-v2.ts'),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: console.error,
      },
    });
  });
  afterAll(async () => {
    for (const s of sets) s.set.shutdown();
    await Promise.all(sets.map((s) => s.running));
    env?.salesforce.core.faults.setOutage(false);
    await env?.stop();
    await t?.close();
  });

  it('runs in flight finish on the build they started on, new runs take the new build, an entity workflow moves at continue-as-new', async () => {
    const prefix = uniquePrefix('deploy');
    const deploymentName = prefix;
    const queue = taskQueueName(prefix, coordinatorQueue);
    const deploy = async (buildId: string, bundle: WorkflowBundleWithSourceMap) => {
      const set = await createWorkerSet({
        connection: t.nativeConnection,
        namespace: t.namespace,
        taskQueuePrefix: prefix,
        activities: buildActivities(env.config, { temporalClient: t.client }),
        workflowBundle: bundle,
        deployment: { deploymentName, buildId },
      });
      sets.push({ set, running: set.run() });
      // What `temporal worker deployment set-current-version` does; it succeeds once the new build's
      // pollers have reached the server on every task queue of the deployment.
      await waitFor(
        `${buildId} to become the current version`,
        async () => {
          await t.client.workflowService.setWorkerDeploymentCurrentVersion({
            namespace: t.namespace,
            deploymentName,
            buildId,
          });
          return true;
        },
        60_000,
        250,
      );
    };
    const startCustomer = async (label: string) => {
      const customer = customerSchema.parse({
        reference: uniquePrefix(label),
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: 'ada@example.com',
        phone: '+44 20 7946 0958',
        company: `Versioned ${uniquePrefix(label).slice(-8)}`,
        address: { street: '1 Dorset St', city: 'London', postalCode: 'W1U 4EG', country: 'GB' },
      });
      return t.client.workflow.start<typeof customerCreation>('customerCreation', {
        ...customerCreationStartOptions(customer, queue),
        args: [{ customer, temporalUiUrl: 'http://127.0.0.1:8233' }],
      });
    };
    // Build id of every workflow task completion of a run, in order.
    const buildsOf = async (handle: WorkflowHandle, runId?: string) => {
      const h = runId ? t.client.workflow.getHandle(handle.workflowId, runId) : handle;
      const history = await h.fetchHistory();
      return (history.events ?? [])
        .map((e) => e.workflowTaskCompletedEventAttributes)
        .filter((a) => a != null)
        .map((a) => a.deploymentVersion?.buildId ?? '(unversioned)');
    };
    let seq = 0;
    const entityEvent = async () => {
      const accountId = `001${prefix
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(-15)
        .padStart(15, '0')}`;
      const event: EntityEvent = {
        eventId: `${prefix}-evt-${++seq}`,
        source: 'salesforce',
        kind: 'account.created',
        recordId: accountId,
        // Written by the coordinator itself: an echo, recorded without calling any system.
        origin: 'com/salesforce/api/rest/62.0;client=integration-coordinator',
        fields: {},
        changedFields: [],
        occurredAt: new Date(Date.parse('2026-01-01T00:00:00Z') + seq * 1000).toISOString(),
        receivedAt: new Date().toISOString(),
      };
      const route = routeEntityEvent(event);
      const workflowId = `${prefix}:${route.workflowId}`;
      await t.client.workflow.signalWithStart(route.workflowType, {
        workflowId,
        taskQueue: queue,
        args: [{ route: { ...route, workflowId }, idleTimeout: '5m' } satisfies EntitySyncInput],
        signal: entityEventSignal,
        signalArgs: [event],
      });
      const recorded = await waitFor(`${event.eventId} recorded`, async () => {
        const state = await t.client.workflow.getHandle(workflowId).query(getEntityStateQuery);
        return state.recent.some((r) => r.eventId === event.eventId) ? state : undefined;
      });
      return { workflowId, recorded };
    };

    // v1 is current. Salesforce is down, so its customer runs stay in flight (retrying step one).
    await deploy('v1', await workflowBundle());
    env.salesforce.core.faults.setOutage(true);
    const oldRuns = [await startCustomer('v1-a'), await startCustomer('v1-b')];
    for (const run of oldRuns) {
      await waitFor(`${run.workflowId} retrying a Salesforce call`, async () => {
        const d = await run.describe();
        return (d.raw.pendingActivities ?? []).some((a) => (a.attempt ?? 0) >= 2);
      });
    }
    const entity = await entityEvent();
    const entityFirstRun = (await t.client.workflow.getHandle(entity.workflowId).describe()).runId;

    // v2 is deployed and made current while those runs are still in flight.
    await deploy('v2', v2Bundle);
    const newRuns = [await startCustomer('v2-a'), await startCustomer('v2-b')];
    env.salesforce.core.faults.setOutage(false);

    for (const run of [...oldRuns, ...newRuns]) {
      const result = await run.result();
      expect(result).toMatchObject({ salesforceAccountCreated: true, sapCustomerCreated: true });
    }
    for (const run of oldRuns) {
      expect(new Set(await buildsOf(run))).toEqual(new Set(['v1']));
      expect((await run.describe()).memo?.releasedIn).toBeUndefined();
    }
    for (const run of newRuns) {
      expect(new Set(await buildsOf(run))).toEqual(new Set(['v2']));
      expect((await run.describe()).memo?.releasedIn).toBe('v2');
    }

    // The entity workflow's next event moves it to v2 (continue-as-new), where that event is applied.
    const second = await entityEvent();
    const handle = t.client.workflow.getHandle(entity.workflowId);
    const current = await handle.describe();
    expect(current.runId).not.toBe(entityFirstRun);
    expect(new Set(await buildsOf(handle, entityFirstRun))).toEqual(new Set(['v1']));
    const firstRun = await t.client.workflow.getHandle(entity.workflowId, entityFirstRun).describe();
    expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
    expect(new Set(await buildsOf(handle, current.runId))).toEqual(new Set(['v2']));
    // The state travelled with it: both events are remembered by the run on v2.
    expect(second.recorded.seenEventIds).toEqual(
      expect.arrayContaining([`${prefix}-evt-1`, `${prefix}-evt-2`]),
    );
  });
});
