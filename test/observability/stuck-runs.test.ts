import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '../../src/observability/metric-names';
import { applyStuckRunSchedule, stuckRunSchedule } from '../../src/schedules/apply';
import type { customerCreation } from '../../src/workflows/customer-creation';
import { customerCreationStartOptions } from '../../src/workflows/customer-creation.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import type { stuckRunDetector } from '../../src/workflows/stuck-run-detector';
import { stuckRunScheduleId } from '../../src/workflows/stuck-run-detector.messages';
import type { StuckRunDetectorInput } from '../../src/workflows/stuck-run-detector.messages';
import { domainCustomer } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { scrape, sumOf, workerMetricsUrl } from '../support/metrics';
import { startRecorder } from '../support/recorder';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('stuck-run detector: finds, alerts once (Slack and Alertmanager), counts', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let alertmanager: Awaited<ReturnType<typeof startRecorder>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('stuck');
  const workflowQueue = taskQueueName(prefix, coordinatorQueue);
  const ui = 'http://ui.example.test';

  beforeAll(async () => {
    t = await connectTemporal();
    alertmanager = await startRecorder();
    env = await startIntegrationEnvironment(t, {
      ALERTMANAGER_URL: new URL(alertmanager.url).origin,
    });
    workers = await env.startWorkers(prefix);
  });
  afterAll(async () => {
    await workers?.stop();
    await env?.stop();
    await alertmanager?.close();
    await t?.close();
  });

  const detect = (input: StuckRunDetectorInput) =>
    t.client.workflow.execute<typeof stuckRunDetector>('stuckRunDetector', {
      workflowId: uniquePrefix('detector'),
      taskQueue: workflowQueue,
      args: [input],
    });
  const startCustomer = (label: string) => {
    const customer = domainCustomer(label);
    return t.client.workflow.start<typeof customerCreation>('customerCreation', {
      ...customerCreationStartOptions(customer, workflowQueue),
      args: [{ customer }],
    });
  };
  const slackAlertsFor = (workflowId: string) =>
    env.alerts.received.filter((r) => r.body?.metadata?.workflowId === workflowId);
  const alertmanagerAlertsFor = (workflowId: string) =>
    alertmanager.received.filter((r) => r.body?.[0]?.labels?.workflow_id === workflowId);

  it('a run whose activity keeps retrying past the limit is alerted once to both sinks; the next pass suppresses the duplicate; gauge and counters on the worker endpoint', async () => {
    // SAP's customer search fails with a system failure until the rule is removed: Temporal retries it.
    const rule = env.sap.core.faults.failNext('system-failure', 1000, { operation: 'BAPI_CUSTOMER_FIND' });
    const handle = await startCustomer('retry');
    const runId = handle.firstExecutionRunId;
    await waitFor('findCustomer on its second attempt', async () => {
      const { raw } = await handle.describe();
      return (raw.pendingActivities ?? []).some(
        (a) => a.activityType?.name === 'findCustomer' && (a.attempt ?? 0) >= 2,
      );
    });

    const first = await detect({ maxAttempts: 1, noProgressSeconds: 3600, temporalUiUrl: ui });
    expect(first.checked).toBe(1);
    expect(first.stuck).toEqual([
      expect.objectContaining({
        workflowId: handle.workflowId,
        runId,
        workflowType: 'customerCreation',
        reason: 'retrying',
        step: 'findCustomer',
        failureType: 'SystemUnavailable',
      }),
    ]);
    expect(first.alerted).toEqual([handle.workflowId]);
    expect(first.suppressed).toEqual([]);

    await waitFor('the alert at both sinks', async () =>
      slackAlertsFor(handle.workflowId).length === 1 && alertmanagerAlertsFor(handle.workflowId).length === 1
        ? true
        : undefined,
    );
    const slack = slackAlertsFor(handle.workflowId)[0]!.body;
    expect(slack.text).toContain('Stuck customerCreation run (retrying)');
    expect(slack.metadata).toMatchObject({ runId, severity: 'warning', failureType: 'SystemUnavailable' });
    // Alertmanager's POST /api/v2/alerts: an array of postable alerts.
    const am = alertmanagerAlertsFor(handle.workflowId)[0]!;
    expect(am.path).toBe('/api/v2/alerts');
    expect(am.body).toHaveLength(1);
    const alert = am.body[0];
    expect(alert.labels).toEqual({
      alertname: 'IntegrationRunStuck',
      severity: 'warning',
      service: 'integration-coordinator',
      workflow_id: handle.workflowId,
      run_id: runId,
      flow: 'customerCreation',
      failure_type: 'SystemUnavailable',
    });
    expect(alert.annotations.summary).toBe('Stuck customerCreation run (retrying)');
    expect(alert.annotations.description).toMatch(/findCustomer is on attempt \d+/);
    expect(Date.parse(alert.endsAt) - Date.parse(alert.startsAt)).toBe(60 * 60 * 1000);
    expect(alert.generatorURL).toBe(
      `${ui}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}/${runId}/history`,
    );

    // A second pass finds the same run and sends nothing.
    const second = await detect({ maxAttempts: 1, noProgressSeconds: 3600, temporalUiUrl: ui });
    expect(second.stuck.map((r) => r.runId)).toEqual([runId]);
    expect(second.alerted).toEqual([]);
    expect(second.suppressed).toEqual([handle.workflowId]);
    expect(slackAlertsFor(handle.workflowId)).toHaveLength(1);
    expect(alertmanagerAlertsFor(handle.workflowId)).toHaveLength(1);

    const ours = { taskQueue: workflowQueue };
    const opsQueue = { taskQueue: taskQueueName(prefix, 'ops') };
    let samples = (await scrape(workerMetricsUrl())).samples;
    expect(
      sumOf(samples, metrics.stuckRuns.name, { ...ours, flow: 'customerCreation', reason: 'retrying' }),
    ).toBe(1);
    expect(sumOf(samples, metrics.stuckRuns.name, { ...ours, reason: 'no_progress' })).toBe(0);
    expect(sumOf(samples, metrics.alertsSent.name, { ...opsQueue, sink: 'slack', outcome: 'sent' })).toBe(1);
    expect(
      sumOf(samples, metrics.alertsSent.name, { ...opsQueue, sink: 'alertmanager', outcome: 'sent' }),
    ).toBe(1);
    expect(sumOf(samples, metrics.alertsSent.name, { ...ours, sink: 'all', outcome: 'suppressed' })).toBe(1);

    // SAP recovers: the run goes on by itself, and the next pass finds nothing and sets the gauge to 0.
    env.sap.core.faults.removeRule(rule.id);
    await handle.result();
    const third = await detect({ maxAttempts: 1, noProgressSeconds: 3600, temporalUiUrl: ui });
    expect(third.stuck).toEqual([]);
    samples = (await scrape(workerMetricsUrl())).samples;
    expect(
      sumOf(samples, metrics.stuckRuns.name, { ...ours, flow: 'customerCreation', reason: 'retrying' }),
    ).toBe(0);
  });

  it('a run with an activity pending and no history event for the limit made no progress', async () => {
    // SAP answers every call after 4 s: the search is in flight, on its first attempt, with nothing recorded.
    env.sap.core.faults.setLatency({ fixedMs: 4000 });
    try {
      const handle = await startCustomer('idle');
      await waitFor('findCustomer to be pending', async () => {
        const { raw } = await handle.describe();
        return (raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'findCustomer');
      });
      const found = await waitFor('the detector to see no progress', async () => {
        const r = await detect({ maxAttempts: 10, noProgressSeconds: 1, temporalUiUrl: ui });
        return r.stuck.find((s) => s.workflowId === handle.workflowId);
      });
      expect(found).toMatchObject({ reason: 'no_progress', step: 'findCustomer', attempt: 1 });
      expect(found.idleSeconds).toBeGreaterThanOrEqual(1);
      // The sinks are posted one after the other: wait for both.
      await waitFor('the no-progress alert at both sinks', async () =>
        slackAlertsFor(handle.workflowId).length === 1 &&
        alertmanagerAlertsFor(handle.workflowId).length === 1
          ? true
          : undefined,
      );
      expect(slackAlertsFor(handle.workflowId)[0]!.body.text).toContain(
        'Stuck customerCreation run (no progress)',
      );
      expect(alertmanagerAlertsFor(handle.workflowId)).toHaveLength(1);
    } finally {
      env.sap.core.faults.setLatency({ fixedMs: 0 });
    }
  });

  it('the detector runs on its Schedule, created from configuration and updated idempotently', async () => {
    const settings = stuckRunSchedule(env.config);
    expect(settings).toMatchObject({
      every: '5m',
      input: { maxAttempts: 10, noProgressSeconds: 1800 },
    });
    const schedule = t.client.schedule.getHandle(stuckRunScheduleId);
    try {
      expect(await applyStuckRunSchedule(t.client, settings, prefix)).toBe(true);
      expect(await applyStuckRunSchedule(t.client, settings, prefix)).toBe(false);
      const d = await schedule.describe();
      expect(d.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'stuckRunDetector',
        taskQueue: workflowQueue,
      });
      expect(d.spec.intervals?.[0]?.every).toBe(5 * 60 * 1000);
      await schedule.trigger();
      await waitFor('a scheduled pass to complete', async () => {
        for await (const wf of t.client.workflow.list({
          query: `TaskQueue = '${workflowQueue}' AND WorkflowType = 'stuckRunDetector' AND ExecutionStatus = 'Completed' AND StartTime > '${d.info.createdAt.toISOString()}'`,
        })) {
          if (wf.workflowId.startsWith('stuck-run-detector')) return true;
        }
        return undefined;
      });
    } finally {
      await schedule.delete().catch(() => undefined);
    }
  });
});
