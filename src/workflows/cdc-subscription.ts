import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertActivities } from '../activities/alerts/activities';
import type {
  AdvanceReplayId,
  CdcProblem,
  CdcSubscriptionInput,
  CdcSubscriptionState,
} from './cdc-subscription.messages';
import {
  advanceReplayIdUpdate,
  catchUpProblems,
  getCdcSubscriptionQuery,
  reportCdcProblemUpdate,
} from './cdc-subscription.messages';
import { failureSummary } from '../lib/failures';
import { alertActivityOptions } from './shared/policies';
import { activityQueueFor } from './shared/task-queues';

const problemLimit = 20;
const updatesPerRun = 1_000;

/**
 * The durable position of one Salesforce change channel (`cdc-subscription:/data/AccountChangeEvent`).
 * The subscriber process holds no state of its own: it reads the replay id here when it (re)starts and
 * advances it by update only after the events before it were handed over to their entity workflows, so
 * a crash at any point resumes with nothing lost (an event may be handed over twice; the entity workflow
 * drops the repeated event id). Problems the subscriber meets are recorded and alerted here, so they show
 * in the Web UI with the channel they belong to. Never completes; continues as new before its history
 * grows large.
 */
export async function cdcSubscription(input: CdcSubscriptionInput): Promise<void> {
  const state: CdcSubscriptionState = input.state ?? {
    channel: input.channel,
    handedOver: 0,
    problems: [],
    catchUpsRequested: 0,
  };
  const ops = proxyActivities<AlertActivities>({
    ...alertActivityOptions,
    taskQueue: activityQueueFor(workflowInfo().taskQueue, 'ops'),
  });
  let updates = 0;

  setHandler(getCdcSubscriptionQuery, () => state);
  setHandler(
    advanceReplayIdUpdate,
    (update) => {
      state.replayId = update.replayId;
      state.handedOver += update.handedOver;
      state.storedAt = new Date().toISOString();
      if (update.lastCommitAt && (!state.lastCommitAt || update.lastCommitAt > state.lastCommitAt))
        state.lastCommitAt = update.lastCommitAt;
      updates += 1;
      return { replayId: state.replayId, handedOver: state.handedOver };
    },
    {
      validator: (update: AdvanceReplayId) => {
        if (!/^[A-Za-z0-9+/]+={0,2}$/.test(update.replayId) || update.replayId.length > 88) {
          throw new Error(`replay id "${update.replayId}" is not base64 of an opaque replay id`);
        }
        if (!Number.isInteger(update.handedOver) || update.handedOver < 0) {
          throw new Error('handedOver must be a non-negative integer');
        }
        if (update.lastCommitAt !== undefined && Number.isNaN(Date.parse(update.lastCommitAt))) {
          throw new Error(`lastCommitAt "${update.lastCommitAt}" is not an ISO instant`);
        }
      },
    },
  );
  setHandler(reportCdcProblemUpdate, async (problem) => {
    const recorded: CdcProblem = { ...problem, at: new Date().toISOString() };
    state.problems.push(recorded);
    if (state.problems.length > problemLimit) state.problems.splice(0, state.problems.length - problemLimit);
    updates += 1;
    const catchUp = catchUpProblems.includes(problem.kind);
    if (catchUp) state.catchUpsRequested += 1;
    const info = workflowInfo();
    await ops
      .sendAlert({
        severity: catchUp ? 'critical' : 'warning',
        title: `Salesforce change events on ${state.channel}: ${problem.kind}`,
        text: problem.catchUp
          ? `${problem.detail}. Changes may have been missed: the catch-up ${problem.catchUp.workflowId} (a backfill of sync ${problem.catchUp.sync} over ${problem.catchUp.from} .. ${problem.catchUp.to}) was started; the subscription continues from the latest event.`
          : catchUp
            ? `${problem.detail}. Changes may have been missed and no batch sync covers this object: run a reconciliation or re-send the records (the subscription continues from the latest event).`
            : `${problem.detail}. The event was skipped; the stream goes on. The record is corrected by its next change or by the batch sync.`,
        workflowId: info.workflowId,
        runId: info.runId,
        failureType: problem.kind,
        ...(input.temporalUiUrl ? { webUiUrl: input.temporalUiUrl } : {}),
      })
      .catch((err: unknown) => log.error('alert failed', { error: failureSummary(err) }));
  });

  await condition(() => updates >= updatesPerRun || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof cdcSubscription>({ ...input, state });
}
