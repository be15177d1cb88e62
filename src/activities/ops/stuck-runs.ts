import { heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { StuckRun } from '../../domain/stuck-runs';

export interface FindStuckRunsInput {
  /** The coordinator queue whose running runs are checked. */
  taskQueue: string;
  /** A pending activity or workflow task on an attempt above this is `retrying`. */
  maxAttempts: number;
  /** A run with pending work and no history event for this long is `no_progress`. */
  noProgressSeconds: number;
  /** At most this many running runs are checked per pass (oldest first are not favoured: visibility order). */
  maxRuns: number;
  /** Workflow types never checked (the detector itself and its alerts). */
  skipTypes: string[];
}

export interface FindStuckRunsResult {
  checked: number;
  /** True when more runs were running than `maxRuns`. */
  truncated: boolean;
  stuck: StuckRun[];
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The stuck-run detector's read side. Running runs come from visibility; each is described: a pending
 * activity whose attempt is past the limit (Temporal keeps retrying it, and retries add no history
 * events) or a workflow task that keeps failing (a code bug, a non-determinism error) is `retrying`.
 * Otherwise a run with a pending activity and no history event for `noProgressSeconds` (its last
 * event read with the reverse history call) made `no_progress`. Runs waiting for a signal or a timer
 * have nothing pending and are never flagged: entity workflows idle by design.
 */
export function createStuckRunActivities(deps: { temporalClient?: Client }) {
  return {
    async findStuckRuns(input: FindStuckRunsInput): Promise<FindStuckRunsResult> {
      const client = deps.temporalClient;
      if (!client) throw new Error('findStuckRuns needs a Temporal client (RuntimeDeps.temporalClient)');
      const skip = input.skipTypes.map((t) => ` AND WorkflowType != ${quote(t)}`).join('');
      const query = `TaskQueue = ${quote(input.taskQueue)} AND ExecutionStatus = 'Running'${skip}`;
      const stuck: StuckRun[] = [];
      let checked = 0;
      let truncated = false;
      const now = Date.now();
      for await (const wf of client.workflow.list({ query, pageSize: Math.min(input.maxRuns, 500) })) {
        if (checked >= input.maxRuns) {
          truncated = true;
          break;
        }
        checked += 1;
        heartbeat(checked);
        const { raw } = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
        const base = { workflowId: wf.workflowId, runId: wf.runId, workflowType: wf.type };
        const task = raw.pendingWorkflowTask;
        if (task && (task.attempt ?? 0) > input.maxAttempts) {
          stuck.push({ ...base, reason: 'retrying', step: 'workflow task', attempt: task.attempt ?? 0 });
          continue;
        }
        const pending = raw.pendingActivities ?? [];
        if (pending.length === 0) continue;
        const worst = pending.reduce((a, b) => ((b.attempt ?? 0) > (a.attempt ?? 0) ? b : a));
        const step = {
          step: worst.activityType?.name ?? 'activity',
          attempt: worst.attempt ?? 0,
          ...(worst.lastFailure?.applicationFailureInfo?.type
            ? { failureType: worst.lastFailure.applicationFailureInfo.type }
            : {}),
        };
        if (step.attempt > input.maxAttempts) {
          stuck.push({ ...base, reason: 'retrying', ...step });
          continue;
        }
        const last = await client.workflowService.getWorkflowExecutionHistoryReverse({
          namespace: client.options.namespace,
          execution: { workflowId: wf.workflowId, runId: wf.runId },
          maximumPageSize: 1,
        });
        const lastEventMs = optionalTsToMs(last.history?.events?.[0]?.eventTime);
        if (lastEventMs === undefined) continue;
        const idleSeconds = Math.floor((now - lastEventMs) / 1000);
        if (idleSeconds >= input.noProgressSeconds) {
          stuck.push({ ...base, reason: 'no_progress', ...step, idleSeconds });
        }
      }
      return { checked, truncated, stuck };
    },
  };
}

export type StuckRunActivities = ReturnType<typeof createStuckRunActivities>;
