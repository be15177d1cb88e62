import {
  ParentClosePolicy,
  proxyActivities,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AlertActivities } from '../activities/alerts/activities';
import type { StuckRunActivities } from '../activities/ops/stuck-runs';
import { stuckReasons } from '../domain/stuck-runs';
import { temporalRunUrl } from '../lib/links';
import { countSuppressedAlert, setStuckRuns } from '../observability/workflow-metrics';
import { alertActivityOptions } from './shared/policies';
import { IntegrationFlow } from './shared/search-attributes';
import { activityQueueFor } from './shared/task-queues';
import { defaultStuckRunMaxRuns, stuckRunAlertWorkflowId } from './stuck-run-detector.messages';
import type {
  StuckRunAlertInput,
  StuckRunDetectorInput,
  StuckRunDetectorResult,
} from './stuck-run-detector.messages';
import { serviceWorkflowTypes } from './workflow-types';

/**
 * The stuck-run detector, started by its Temporal Schedule (`stuck-runs`, every
 * STUCK_RUN_CHECK_INTERVAL). One pass: find the running runs of this queue whose step keeps retrying
 * past `maxAttempts` or that recorded nothing for `noProgressSeconds` with work pending, set the
 * `integration_stuck_runs` gauge per flow and reason, and alert once per stuck run. "Once" is kept by
 * Temporal itself: each alert is a child workflow whose id is the stuck run's id, started with
 * REJECT_DUPLICATE, so a later pass (another workflow execution) that finds the same run is refused
 * the start and counts a suppressed duplicate instead. See docs/observability.md#integrationstuckruns.
 */
export async function stuckRunDetector(input: StuckRunDetectorInput): Promise<StuckRunDetectorResult> {
  const info = workflowInfo();
  const ops = proxyActivities<StuckRunActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: '1m',
    retry: { initialInterval: '5s', maximumAttempts: 3 },
    taskQueue: activityQueueFor(info.taskQueue, 'ops'),
  });
  upsertSearchAttributes([{ key: IntegrationFlow, value: 'stuck-run-detector' }]);
  const found = await ops.findStuckRuns({
    taskQueue: info.taskQueue,
    maxAttempts: input.maxAttempts,
    noProgressSeconds: input.noProgressSeconds,
    maxRuns: input.maxRuns ?? defaultStuckRunMaxRuns,
    skipTypes: ['stuckRunDetector', 'stuckRunAlert'],
  });
  // Every flow and reason, zeros included: the gauge shows this pass, not the last non-zero one.
  for (const flow of serviceWorkflowTypes) {
    for (const reason of stuckReasons) {
      setStuckRuns(
        flow,
        reason,
        found.stuck.filter((r) => r.workflowType === flow && r.reason === reason).length,
      );
    }
  }
  const alerted: string[] = [];
  const suppressed: string[] = [];
  for (const run of found.stuck) {
    try {
      await startChild(stuckRunAlert, {
        workflowId: stuckRunAlertWorkflowId(run.runId),
        args: [{ run, ...(input.temporalUiUrl ? { temporalUiUrl: input.temporalUiUrl } : {}) }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      alerted.push(run.workflowId);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      suppressed.push(run.workflowId);
      countSuppressedAlert();
    }
  }
  return { ...found, alerted, suppressed };
}

/** The one alert about one stuck run (its workflow id is the dedupe key, see above). */
export async function stuckRunAlert(input: StuckRunAlertInput): Promise<void> {
  const info = workflowInfo();
  const alerts = proxyActivities<AlertActivities>({
    ...alertActivityOptions,
    taskQueue: activityQueueFor(info.taskQueue, 'ops'),
  });
  const { run } = input;
  const why =
    run.reason === 'retrying'
      ? `its ${run.step} is on attempt ${run.attempt}${run.failureType ? ` (last failure: ${run.failureType})` : ''}`
      : `nothing has happened for ${run.idleSeconds ?? 0} s while ${run.step} is pending (attempt ${run.attempt})`;
  await alerts.sendAlert({
    severity: 'warning',
    alertName: 'IntegrationRunStuck',
    flow: run.workflowType,
    title: `Stuck ${run.workflowType} run (${run.reason === 'retrying' ? 'retrying' : 'no progress'})`,
    text: `Run ${run.workflowId} is stuck: ${why}. Fix the cause and it goes on by itself, or cancel it (POST /v1/runs/{id}/cancel).`,
    workflowId: run.workflowId,
    runId: run.runId,
    ...(run.failureType ? { failureType: run.failureType } : {}),
    ...(input.temporalUiUrl
      ? { webUiUrl: temporalRunUrl(input.temporalUiUrl, info.namespace, run.workflowId, run.runId) }
      : {}),
  });
}
