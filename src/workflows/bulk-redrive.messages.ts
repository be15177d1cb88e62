import { defineQuery } from '@temporalio/workflow';

/** Contracts of the bulk redrive of failed runs (`bulkRedrive`), shared with the API. */

export interface BulkRedriveFilter {
  flow?: string;
  failureType?: string;
  /** Close-time range, ISO instants; `to` defaults to the bulk redrive's start. */
  from?: string;
  to?: string;
}

export interface BulkRedriveInput {
  filter: BulkRedriveFilter;
  /** Redrives per second, at most (a durable timer between two). */
  ratePerSecond: number;
  /** Stop after this many runs. */
  maxRuns: number;
  /** Carried over continue-as-new. */
  carry?: { pageToken?: string; progress: BulkRedriveProgress; seen: string[] };
}

export interface BulkRedriveProgress {
  phase: 'listing' | 'redriving' | 'done';
  /** Failed runs matched so far (one per workflow id). */
  found: number;
  redriven: number;
  /** Runs the flow's redrive rule refused (not redrivable, already running, ...), by reason code. */
  refused: Record<string, number>;
  /** Redrives that failed with an error (the run stays failed; the error is in the activity's history). */
  errors: number;
  pages: number;
  /** The last few outcomes, newest last. */
  recent: { workflowId: string; outcome: string; runId?: string }[];
  /** The close-time bound the runs were listed with. */
  to: string;
}

export const getBulkRedriveProgressQuery = defineQuery<BulkRedriveProgress>('getBulkRedriveProgress');
export const bulkRedriveWorkflowId = (id: string) => `bulk-redrive:${id}`;
