import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import { syncScheduleId } from '../workflows/batch-sync.messages';
import { coordinatorQueue, taskQueueName } from '../workflows/shared/task-queues';
import type { Config } from '../config';
import { stuckRunDetectorWorkflowId, stuckRunScheduleId } from '../workflows/stuck-run-detector.messages';
import type { StuckRunDetectorInput } from '../workflows/stuck-run-detector.messages';
import { durationMs } from './specs';
import type { ConfiguredSync } from './specs';

export interface ApplyResult {
  created: string[];
  updated: string[];
}

interface ScheduleDefinition {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsAction;
  policies: { overlap: ScheduleOverlapPolicy; catchupWindow: string; pauseOnFailure: boolean };
  /** Applied on creation only: afterwards the paused state belongs to the operators. */
  initialState?: { paused?: boolean; note?: string };
}

/**
 * Creates the Schedule, or, when it exists, replaces its spec, action and policies and keeps its state
 * (paused or not, as an operator left it). True when it was created.
 */
async function createOrUpdateSchedule(client: Client, d: ScheduleDefinition): Promise<boolean> {
  const { scheduleId, spec, action, policies } = d;
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies,
      ...(d.initialState ? { state: d.initialState } : {}),
    });
    return true;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, spec, action, policies }));
    return false;
  }
}

/**
 * Creates or updates one Temporal Schedule per configured sync (`sync:<name>`), idempotently: run it at
 * every worker start or by hand (`npm run schedules:apply`). An update replaces the spec, the action
 * (the run's settings) and the policies, and keeps the Schedule's paused state, which belongs to the
 * operators (Web UI, `temporal schedule toggle`, `POST /v1/syncs/{name}/pause`).
 *
 * Overlap policy SKIP: a run still going when the next one is due makes that one be skipped, never
 * queued or run beside it. Two runs of one sync would write the same records twice over; a skipped
 * run loses nothing, because the next run starts from the cursor. Catch-up window one minute: after an
 * outage of the Temporal cluster only the latest missed run is started, not one per missed interval.
 */
export async function applySyncSchedules(
  client: Client,
  syncs: ConfiguredSync[],
  taskQueuePrefix: string,
  detector?: StuckRunSchedule,
): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [] };
  for (const sync of syncs) {
    const scheduleId = syncScheduleId(sync.spec.name);
    const spec: ScheduleSpec = { intervals: [{ every: sync.every }] };
    const action: ScheduleOptionsAction = {
      type: 'startWorkflow',
      workflowType: 'batchSync',
      workflowId: `sync:${sync.spec.name}`,
      taskQueue: taskQueueName(taskQueuePrefix, coordinatorQueue),
      args: [{ spec: sync.spec }],
    };
    const policies = {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '1 minute',
      pauseOnFailure: false,
    };
    const created = await createOrUpdateSchedule(client, {
      scheduleId,
      spec,
      action,
      policies,
      initialState: { paused: sync.paused, note: 'created from BATCH_SYNCS' },
    });
    (created ? result.created : result.updated).push(scheduleId);
  }
  // The daily reconciliation of customers (dry run: it reports; self-heal is started on demand).
  const reconId = 'reconciliation:customers';
  const reconAction: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'reconciliation',
    workflowId: 'reconciliation:customers',
    taskQueue: taskQueueName(taskQueuePrefix, coordinatorQueue),
    args: [{ name: 'customers', selfHeal: false, driftThreshold: 10 }],
  };
  const reconSpec: ScheduleSpec = { intervals: [{ every: '24h' }] };
  const reconPolicies = {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 hour',
    pauseOnFailure: false,
  };
  const reconCreated = await createOrUpdateSchedule(client, {
    scheduleId: reconId,
    spec: reconSpec,
    action: reconAction,
    policies: reconPolicies,
  });
  (reconCreated ? result.created : result.updated).push(reconId);
  if (detector) {
    const created = await applyStuckRunSchedule(client, detector, taskQueuePrefix);
    (created ? result.created : result.updated).push(stuckRunScheduleId);
  }
  return result;
}

export interface StuckRunSchedule {
  /** How often the detector runs ("5m"). */
  every: string;
  input: StuckRunDetectorInput;
}

/** The stuck-run detector's settings from configuration (STUCK_RUN_*). */
export function stuckRunSchedule(config: Config): StuckRunSchedule {
  return {
    every: config.STUCK_RUN_CHECK_INTERVAL,
    input: {
      maxAttempts: config.STUCK_RUN_MAX_ATTEMPTS,
      noProgressSeconds: durationMs(config.STUCK_RUN_NO_PROGRESS) / 1000,
      temporalUiUrl: config.TEMPORAL_UI_URL,
    },
  };
}

/**
 * The stuck-run detector's Schedule (`stuck-runs`), created or updated like the sync Schedules; true
 * when it was created. Overlap SKIP: a pass still going when the next is due makes that one skip.
 */
export async function applyStuckRunSchedule(
  client: Client,
  detector: StuckRunSchedule,
  taskQueuePrefix: string,
): Promise<boolean> {
  const spec: ScheduleSpec = { intervals: [{ every: detector.every }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'stuckRunDetector',
    workflowId: stuckRunDetectorWorkflowId,
    taskQueue: taskQueueName(taskQueuePrefix, coordinatorQueue),
    args: [detector.input],
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute', pauseOnFailure: false };
  return createOrUpdateSchedule(client, { scheduleId: stuckRunScheduleId, spec, action, policies });
}
