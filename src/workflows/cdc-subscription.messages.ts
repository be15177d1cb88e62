import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * Contract between the Salesforce CDC subscriber (src/cdc/) and its state workflow: one long-lived
 * `cdcSubscription` workflow per change channel holds the replay id up to which every event has been
 * handed over to the entity workflows, and the problems the subscriber reported.
 */

export type CdcProblemKind =
  /** The stored replay id is older than the event bus keeps events (72 h): events were missed. */
  | 'replay-id-expired'
  /** The stored replay id was refused as corrupt or is not a replay id at all. */
  | 'replay-id-corrupt'
  /** An event whose payload does not decode with its schema: skipped. */
  | 'malformed-event'
  /** An event whose schema id GetSchema does not know: skipped. */
  | 'unknown-schema'
  /** GAP_OVERFLOW: too many changes in one transaction for change events: a catch-up is needed. */
  | 'gap-overflow'
  /** A gap event's records could not be re-read. */
  | 'gap-unreadable';

export interface CdcProblem {
  kind: CdcProblemKind;
  detail: string;
  /** The replay id of the event concerned (base64), when there is one. */
  replayId?: string;
  /** The catch-up started for it: a backfill run of the object's batch sync over the window at risk. */
  catchUp?: CdcCatchUp;
  at: string;
}

export interface CdcCatchUp {
  sync: string;
  workflowId: string;
  /** SystemModstamp range the backfill reads (ISO instants). */
  from: string;
  to: string;
}

export interface CdcSubscriptionState {
  channel: string;
  /** Base64 of the opaque replay id after which the subscription resumes. */
  replayId?: string;
  storedAt?: string;
  /** The newest commitTimestamp handed over (ISO): where a catch-up after lost events starts. */
  lastCommitAt?: string;
  /** Entity events handed over since the subscription first started. */
  handedOver: number;
  /** Problems reported, newest last (bounded). */
  problems: CdcProblem[];
  /** Catch-up runs requested (expired replay id, overflow, a corrupt stored replay id). */
  catchUpsRequested: number;
}

export interface CdcSubscriptionInput {
  channel: string;
  state?: CdcSubscriptionState;
  temporalUiUrl?: string;
}

export interface AdvanceReplayId {
  replayId: string;
  handedOver: number;
  /** The newest commitTimestamp among the events handed over (ISO), when any was. */
  lastCommitAt?: string;
}

export const advanceReplayIdUpdate = defineUpdate<
  { replayId: string; handedOver: number },
  [AdvanceReplayId]
>('advanceReplayId');
export const reportCdcProblemUpdate = defineUpdate<void, [Omit<CdcProblem, 'at'>]>('reportCdcProblem');
export const getCdcSubscriptionQuery = defineQuery<CdcSubscriptionState>('getCdcSubscription');

export function cdcSubscriptionWorkflowId(channel: string): string {
  return `cdc-subscription:${channel}`;
}

/** Problems after which events may have been missed, so a catch-up run must follow. */
export const catchUpProblems: readonly CdcProblemKind[] = [
  'replay-id-expired',
  'replay-id-corrupt',
  'gap-overflow',
];
