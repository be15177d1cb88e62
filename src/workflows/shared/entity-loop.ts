import {
  allHandlersFinished,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  log,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import { countEntityEvent, countEntityEventReceived } from '../../observability/workflow-metrics';
import type { AppliedEvent, EntityEvent, EntityState, EntitySyncInput } from '../entity-sync.messages';
import { emptyEntityState, entityEventSignal, getEntityStateQuery } from '../entity-sync.messages';
import { failureSummary } from '../../lib/failures';
import type { SalesforceId } from './search-attributes';
import type { notificationDelivery } from '../notification-delivery';
import { notificationWorkflowId } from '../notification-delivery.messages';
import { alertActivityOptions, syncActivityOptions } from './policies';
import { alertQuietly } from './alerts';
import { activitiesOf } from './proxies';
import { activityQueueFor } from './task-queues';

const seenLimit = 2_000;
const recentLimit = 50;

export type EventOutcome = Pick<AppliedEvent, 'outcome' | 'detail'>;

export interface EntityContext {
  state: EntityState;
  input: EntitySyncInput;
  queue: (system: Parameters<typeof activityQueueFor>[1]) => string;
  /** Announces a change to webhook subscribers in a run of its own: never blocks the next event. */
  publish(type: string, event: EntityEvent, data: Record<string, unknown>): Promise<void>;
}

/**
 * The life of an entity workflow: one long-lived workflow per business record. Events arrive by
 * signal (signal-with-start from the ingress) into a queue and are applied strictly one at a time, in
 * arrival order. A redelivered event (same id) is recognised and has no second effect. A permanent
 * failure of one event is recorded, alerted and skipped; transient ones are retried by the activities'
 * policies until the system is back. The workflow continues-as-new (carrying its state and any
 * queued events) before its history grows large, and closes after an idle period.
 *
 * Versioned deployments: a run is pinned to the build it started on. When the server reports a new
 * current version (`targetWorkerDeploymentVersionChanged`), the loop continues-as-new onto it at the
 * next event, before applying that event, so a long-lived record does not keep an old build alive.
 */
export async function runEntityLoop(
  input: EntitySyncInput,
  workflowType: (args: EntitySyncInput) => Promise<EntityLoopResult>,
  handle: (event: EntityEvent, ctx: EntityContext) => Promise<EventOutcome>,
): Promise<EntityLoopResult> {
  const info = workflowInfo();
  const pending: EntityEvent[] = [...(input.pending ?? [])];
  let state = input.state ?? emptyEntityState();
  let seen = new Set(state.seenEventIds);
  let runEvents = 0;
  setHandler(entityEventSignal, (event) => {
    countEntityEventReceived(info.workflowType);
    pending.push(event);
  });
  setHandler(getEntityStateQuery, () => ({
    ...state,
    seenEventIds: [...seen].slice(-seenLimit),
    pending: pending.length,
    runEvents,
  }));

  const queue = (system: Parameters<typeof activityQueueFor>[1]) => activityQueueFor(info.taskQueue, system);
  const ops = activitiesOf('ops', alertActivityOptions);
  // Runs recorded before this lookup existed replay without it (the patch marker tells them apart).
  if (!input.state && patched('entity-state-from-previous-run')) {
    // A new chain for this record (first event ever, or again after an idle close): pick up what the
    // last run remembered, so a late redelivery or an older change is still recognised.
    const lookup = activitiesOf('ops', syncActivityOptions);
    const previous = (await lookup.previousEntityState({ workflowId: info.workflowId })) as
      EntityState | undefined;
    if (previous) {
      state = { ...emptyEntityState(), ...previous };
      seen = new Set(state.seenEventIds);
    }
  }
  const ctx: EntityContext = {
    state,
    input,
    queue,
    async publish(type, event, data) {
      await startChild<typeof notificationDelivery>('notificationDelivery', {
        workflowId: notificationWorkflowId(event.eventId, type),
        args: [
          { sourceKey: `${info.workflowId}/${event.eventId}`, type, data, occurredAt: event.occurredAt },
        ],
        // The delivery outlives this workflow's run (continue-as-new, idle close) and retries on its own.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }).catch((err: unknown) => {
        // Already started for this event (a replayed decision): nothing to do.
        if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
      });
    },
  };
  const record = (event: EntityEvent, outcome: EventOutcome) => {
    state.recent.push({ eventId: event.eventId, kind: event.kind, ...outcome, at: new Date().toISOString() });
    if (state.recent.length > recentLimit) state.recent.splice(0, state.recent.length - recentLimit);
  };

  const carryOn = async (options: Parameters<typeof makeContinueAsNewFunc>[0]) => {
    await condition(allHandlersFinished);
    state.seenEventIds = [...seen].slice(-seenLimit);
    await makeContinueAsNewFunc<typeof workflowType>(options)({ ...input, state, pending: [...pending] });
  };

  const idleTimeout = input.idleTimeout ?? '1 hour';
  // Runs recorded before it waited with a timer per wait: a TimerStarted and a TimerCanceled in the
  // history, and a timer for the server to keep, with every event (the patch marker tells them apart).
  const oneIdleTimer = patched('entity-idle-timer-once');
  let lastEventAt = Date.now();
  let idle = false;
  let watching = false;
  /**
   * The idle close, with one timer per idle period instead of one per event: the timer is set for the
   * idle timeout from the last event and, when it fires after later events, set again for what is left.
   */
  const watchIdle = async () => {
    watching = true;
    try {
      for (;;) {
        const left = lastEventAt + msToNumber(idleTimeout) - Date.now();
        if (left <= 0) {
          idle = true;
          return;
        }
        await sleep(left);
      }
    } finally {
      watching = false;
    }
  };
  const nextEvent = async (): Promise<boolean> => {
    if (!oneIdleTimer) return condition(() => pending.length > 0, idleTimeout);
    if (pending.length === 0 && !idle && !watching) {
      // Fails only when the run is cancelled, which the wait below sees as well.
      watchIdle().catch(() => undefined);
    }
    await condition(() => pending.length > 0 || idle);
    return pending.length > 0;
  };

  for (;;) {
    const arrived = await nextEvent();
    // Always false for unversioned workers (and in every run recorded before versioning).
    if (arrived && workflowInfo().targetWorkerDeploymentVersionChanged) {
      log.info('moving to the new deployment version', { pending: pending.length });
      await carryOn({ initialVersioningBehavior: 'AUTO_UPGRADE' });
    }
    if (!arrived) {
      await condition(allHandlersFinished);
      if (pending.length === 0) {
        state.seenEventIds = [...seen].slice(-seenLimit);
        return { closed: 'idle', state };
      }
      idle = false;
      continue;
    }
    const event = pending.shift()!;
    if (seen.has(event.eventId)) {
      countEntityEvent(info.workflowType, 'duplicate');
      record(event, { outcome: 'duplicate' });
    } else {
      let outcome: EventOutcome;
      try {
        outcome = await handle(event, ctx);
      } catch (err) {
        if (isCancellation(err)) throw err;
        const failure = failureSummary(err);
        outcome = { outcome: 'failed', detail: `${failure.type}: ${failure.message}` };
        log.error('entity event failed', { eventId: event.eventId, kind: event.kind, failure });
        await alertQuietly(ops, {
          severity: 'warning',
          title: `${event.kind} ${event.recordId} was not applied`,
          text: `${failure.type}: ${failure.message}. Later events for this record are still applied; fix the cause and have the source send the event again (a failed event is not remembered as seen, so its redelivery is applied).`,
          workflowId: info.workflowId,
          runId: info.runId,
          failureType: failure.type,
        });
      }
      // A failed event is not remembered: its redelivery, once the cause is fixed, is applied.
      if (outcome.outcome !== 'failed') {
        seen.add(event.eventId);
        if (seen.size > seenLimit) seen.delete(seen.values().next().value!);
      }
      if (outcome.outcome === 'applied') state.appliedCount += 1;
      countEntityEvent(info.workflowType, outcome.outcome);
      record(event, outcome);
    }
    runEvents += 1;
    lastEventAt = Date.now();
    idle = false;

    // Every event counts towards the history size, duplicates included (a redelivery storm too).
    if (runEvents >= (input.maxEventsPerRun ?? 500) || workflowInfo().continueAsNewSuggested) {
      await carryOn({});
    }
  }
}

/**
 * Sets a record's link (a keyword search attribute such as its Salesforce id) unless this run already
 * holds that value. Entity workflows see the link again with every event of the record; an upsert each
 * time would cost a history event and a visibility write per change for nothing. The check reads the
 * run's own search attributes, so it holds across continue-as-new and a new chain after an idle close.
 * Runs recorded before the check replay with their repeated upserts (the patch marker tells them apart).
 */
export function setRecordLink(key: typeof SalesforceId, value: string): void {
  if (workflowInfo().typedSearchAttributes.get(key) === value && patched('entity-link-set-once')) return;
  upsertSearchAttributes([{ key, value }]);
}

export interface EntityLoopResult {
  closed: 'idle';
  state: EntityState;
}
