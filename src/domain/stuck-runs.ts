/** A running run the stuck-run detector flagged (src/activities/ops/stuck-runs.ts decides). */

/** Why a run counts as stuck: a step retrying past the limit, or nothing recorded for too long. */
export type StuckReason = 'retrying' | 'no_progress';
export const stuckReasons: readonly StuckReason[] = ['retrying', 'no_progress'];

export interface StuckRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  reason: StuckReason;
  /** The pending activity (or `workflow task`) it is stuck on. */
  step: string;
  attempt: number;
  /** The last failure's type (`ApplicationFailure` type; the message may be encrypted and is left out). */
  failureType?: string;
  /** Seconds since the run's last history event. */
  idleSeconds?: number;
}
