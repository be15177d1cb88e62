import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { QuarantinedRecord, SyncCounts, SyncCursor, SyncDirection } from '../domain/batch-sync';

/**
 * Contracts of the scheduled batch sync (`batchSync`) and of the per-sync state keeper (`syncState`),
 * shared with the API and the schedule set-up. No workflow logic here.
 */

/** One configured sync, as the schedule hands it to every run. */
export interface SyncSpec {
  name: string;
  direction: SyncDirection;
  object: 'customer';
  /** Records per page (read and write unit; the cursor advances per page). */
  pageSize: number;
  /** Above this many changed records a Salesforce read uses a Bulk API 2.0 query job instead of paging. */
  bulkThreshold: number;
  /** How far behind the cursor a live run starts re-reading (seconds). */
  lookbackSeconds: number;
  /** Share of the Salesforce daily API allowance batch work may use (0-1); the rest is kept for real-time flows. */
  quotaReserve: number;
  /** How often a parked run checks the quota again (seconds). */
  parkCheckSeconds: number;
  /** Continue-as-new once the run's history has this many events. */
  maxHistoryEvents: number;
  /** Bulk job status poll interval (ms). */
  bulkPollMs: number;
}

export type SyncMode = 'live' | 'backfill' | 'redrive';

export interface BatchSyncInput {
  spec: SyncSpec;
  mode?: SyncMode;
  /** Backfill: the SystemModstamp / change pointer creation time range, ISO instants. */
  backfill?: { from: string; to: string };
  /** Redrive: quarantined record ids (all quarantined records of the sync when absent). */
  redrive?: { recordIds?: string[] };
  /** Carried over continue-as-new. */
  carry?: BatchSyncCarry;
}

export interface BatchSyncCarry {
  startedAt: string;
  /** Upper bound of this run's Salesforce reads (the run's start). */
  until?: string;
  position?: SyncCursor;
  nextRecordsUrl?: string;
  bulk?: { jobId: string; locator?: string };
  expected?: number;
  counts: SyncCounts;
  pages: number;
  continuedAsNew: number;
  redriveQueue?: string[];
}

export type SyncPhase = 'starting' | 'reading' | 'writing' | 'committing' | 'parked' | 'done';

export interface SyncProgress {
  name: string;
  mode: SyncMode;
  phase: SyncPhase;
  startedAt: string;
  position?: SyncCursor;
  counts: SyncCounts;
  pages: number;
  /** Records the run expects to read (COUNT() at its start), when known. */
  expected?: number;
  readVia?: 'query' | 'bulk' | 'change-pointers';
  recordsPerSecond: number;
  etaSeconds?: number;
  parked?: { reason: string; since: string };
  continuedAsNew: number;
}

export interface BatchSyncResult {
  name: string;
  mode: SyncMode;
  startedAt: string;
  finishedAt: string;
  counts: SyncCounts;
  cursor?: SyncCursor;
  quarantinedTotal: number;
}

export const getSyncProgressQuery = defineQuery<SyncProgress>('getSyncProgress');

// ------------------------------------------------------------------ syncState

export interface SyncRunSummary extends BatchSyncResult {
  workflowId: string;
}

export interface SyncStateData {
  name: string;
  cursor?: SyncCursor;
  cursorUpdatedAt?: string;
  quarantine: QuarantinedRecord[];
  /** The last runs, newest first (at most 20). */
  runs: SyncRunSummary[];
}

export interface CommitPageInput {
  workflowId: string;
  mode: SyncMode;
  /** Only live runs move the cursor. */
  cursor?: SyncCursor;
  quarantined: Omit<QuarantinedRecord, 'firstSeenAt' | 'attempts'>[];
  /** Records written successfully now: leave quarantine. */
  resolved: string[];
}

export const getSyncStateQuery = defineQuery<SyncStateData>('getSyncState');
export const commitPageUpdate = defineUpdate<{ cursor?: SyncCursor; quarantined: number }, [CommitPageInput]>(
  'commitPage',
);
export const setCursorUpdate = defineUpdate<{ cursor?: SyncCursor }, [{ cursor?: SyncCursor }]>('setCursor');
export const recordRunUpdate = defineUpdate<void, [SyncRunSummary]>('recordRun');

export const syncStateWorkflowId = (name: string) => `sync-state:${name}`;
export const syncScheduleId = (name: string) => `sync:${name}`;
/** A backfill's workflow id: the same range asked twice is the same run. */
export const syncBackfillWorkflowId = (name: string, range: { from: string; to: string }) =>
  `sync-backfill:${name}:${range.from}..${range.to}`;
