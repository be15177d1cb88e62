import type { StuckRun } from '../domain/stuck-runs';

/** Contracts of the stuck-run detector and its per-run alert, shared with the schedule set-up. */

export interface StuckRunDetectorInput {
  /** A pending activity or workflow task on an attempt above this is stuck (`retrying`). */
  maxAttempts: number;
  /** Pending work and no history event for this long is stuck (`no_progress`). */
  noProgressSeconds: number;
  /** Running runs checked per pass, at most. */
  maxRuns?: number;
  /** Temporal Web UI base URL, for the links in alerts. */
  temporalUiUrl?: string;
}

export interface StuckRunDetectorResult {
  checked: number;
  truncated: boolean;
  stuck: StuckRun[];
  /** Stuck runs alerted on by this pass (first time seen). */
  alerted: string[];
  /** Stuck runs an earlier pass already alerted on: no second alert. */
  suppressed: string[];
}

export interface StuckRunAlertInput {
  run: StuckRun;
  temporalUiUrl?: string;
}

export const stuckRunScheduleId = 'stuck-runs';
export const stuckRunDetectorWorkflowId = 'stuck-run-detector';
/** One alert per stuck run, ever (within the namespace's retention): the id is the run's. */
export const stuckRunAlertWorkflowId = (runId: string) => `stuck-run-alert:${runId}`;
export const defaultStuckRunMaxRuns = 1000;
