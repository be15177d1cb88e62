import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { laterCursor } from '../domain/batch-sync';
import type { QuarantinedRecord } from '../domain/batch-sync';
import { commitPageUpdate, getSyncStateQuery, recordRunUpdate, setCursorUpdate } from './batch-sync.messages';
import type { SyncStateData } from './batch-sync.messages';

const MAX_RUNS = 20;
const MAX_EVENTS = 2_000;

/**
 * The durable memory of one configured sync (`sync-state:<name>`): its live cursor, its quarantined
 * records and its last runs. Runs write to it through updates, which Temporal records before it answers,
 * so a page's cursor and quarantine entries land together or not at all. A live cursor only moves
 * forward; a backfill or a redrive never moves it. Continues as new before its history grows.
 */
export async function syncState(input: { name: string; state?: SyncStateData }): Promise<void> {
  const state: SyncStateData = input.state ?? { name: input.name, quarantine: [], runs: [] };

  setHandler(getSyncStateQuery, () => state);

  setHandler(commitPageUpdate, (page) => {
    const now = new Date().toISOString();
    if (page.mode === 'live' && page.cursor) {
      const next = laterCursor(state.cursor, page.cursor);
      if (next !== state.cursor) {
        state.cursor = next;
        state.cursorUpdatedAt = now;
      }
    }
    const resolved = new Set(page.resolved);
    const byId = new Map<string, QuarantinedRecord>(
      state.quarantine.filter((q) => !resolved.has(q.recordId)).map((q) => [q.recordId, q]),
    );
    for (const q of page.quarantined) {
      const earlier = byId.get(q.recordId);
      byId.set(q.recordId, {
        ...q,
        firstSeenAt: earlier?.firstSeenAt ?? q.lastSeenAt,
        attempts: (earlier?.attempts ?? 0) + 1,
      });
    }
    state.quarantine = [...byId.values()];
    return { cursor: state.cursor, quarantined: state.quarantine.length };
  });

  setHandler(setCursorUpdate, ({ cursor }) => {
    state.cursor = cursor;
    state.cursorUpdatedAt = new Date().toISOString();
    return { cursor: state.cursor };
  });

  setHandler(recordRunUpdate, (summary) => {
    state.runs = [summary, ...state.runs.filter((r) => r.workflowId !== summary.workflowId)].slice(
      0,
      MAX_RUNS,
    );
  });

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_EVENTS);
  await condition(allHandlersFinished);
  await continueAsNew<typeof syncState>({ name: input.name, state });
}
