import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { notificationDelivery } from '../workflows/notification-delivery';
import { notificationRedeliveryWorkflowId } from '../workflows/notification-delivery.messages';
import { flowOf, isServiceWorkflowType } from '../workflows/workflow-types';

/**
 * Redrive of one run, for every flow from its definition in the flows registry
 * (src/workflows/workflow-types.ts): the API's `POST /v1/runs/{id}/redrive` and any bulk redrive call
 * this. It acts only on this service's runs (its workflow types on its coordinator task queue).
 */
export interface RedriveSettings {
  /** This service's coordinator task queue: the only runs it redrives. */
  workflowQueue: string;
}

export type RedriveResult =
  | {
      /** A new run under the same workflow id with the original input. */
      redrive: 'restarted';
      workflowId: string;
      runId: string;
      previousRunId: string;
    }
  | {
      /** The run completed; its failed notification deliveries are sent again, to those subscribers only. */
      redrive: 'notification';
      workflowId: string;
      runId: string;
      subscribers: string[];
    };

export type RedriveRefusal = 'not_found' | 'not_redrivable' | 'nothing_to_redrive' | 'conflict';

/** A redrive that was not done, and why; `relatedWorkflowId` names the run to look at instead, if any. */
export class RedriveError extends Error {
  constructor(
    readonly code: RedriveRefusal,
    message: string,
    readonly relatedWorkflowId?: string,
  ) {
    super(message);
    this.name = 'RedriveError';
  }
}

const closedUnsuccessfully = ['FAILED', 'CANCELLED', 'CANCELED', 'TERMINATED', 'TIMED_OUT'];

/** Redrives the latest run of `workflowId` as its flow defines; throws `RedriveError` when it does not. */
export async function redriveRun(
  client: Client,
  settings: RedriveSettings,
  workflowId: string,
): Promise<RedriveResult> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  if (d.taskQueue !== settings.workflowQueue || !isServiceWorkflowType(d.type)) {
    throw new RedriveError('not_found', 'no run with this id');
  }
  const flow = flowOf(d.type);
  const status = d.status.name;
  if (flow.redrive.kind === 'refuse') {
    throw new RedriveError('not_redrivable', `runs of ${d.type} cannot be redriven: ${flow.redrive.reason}`);
  }
  const input = async () => {
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    return decodeArrayFromPayloads(client.options.loadedDataConverter, started?.input?.payloads);
  };

  if (closedUnsuccessfully.includes(status)) {
    // A new run with the same id and the original input (read from the history, never re-sent by a caller).
    const args = await input();
    if (flow.restartInput && status === 'FAILED') {
      args[0] = flow.restartInput({
        input: args[0],
        failureDetails: await failureDetails(client, workflowId, d.runId),
      });
    }
    // Only the start-time attributes: the step and system ids are set again by the new run.
    const keep = new Set(flow.startAttributes.map((k) => k.name));
    try {
      const next = await client.workflow.start(d.type, {
        workflowId,
        taskQueue: d.taskQueue,
        args,
        memo: d.memo,
        typedSearchAttributes: d.typedSearchAttributes.getAll().filter((p) => keep.has(p.key.name)),
        staticSummary: `Redrive of ${workflowId} (previous run ${d.runId})`,
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      return { redrive: 'restarted', workflowId, runId: next.firstExecutionRunId, previousRunId: d.runId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new RedriveError('conflict', 'a newer run with this id is already running');
      }
      throw err;
    }
  }

  if (status === 'COMPLETED') {
    const result: unknown = await client.workflow.getHandle(workflowId, d.runId).result();
    const [firstArg] = flow.failedNotification ? await input() : [];
    const redelivery = flow.failedNotification?.({ workflowId, input: firstArg, result });
    if (!redelivery) {
      throw new RedriveError('nothing_to_redrive', 'the run completed and every notification was delivered');
    }
    const redeliveryId = notificationRedeliveryWorkflowId(workflowId);
    const previous = await client.workflow
      .getHandle(redeliveryId)
      .describe()
      .catch(() => undefined);
    if (previous?.status.name === 'COMPLETED') {
      throw new RedriveError(
        'nothing_to_redrive',
        'the failed deliveries were already redelivered',
        redeliveryId,
      );
    }
    try {
      const next = await client.workflow.start<typeof notificationDelivery>('notificationDelivery', {
        workflowId: redeliveryId,
        taskQueue: d.taskQueue,
        args: [redelivery],
        typedSearchAttributes: d.typedSearchAttributes,
        workflowIdConflictPolicy: 'FAIL',
      });
      return {
        redrive: 'notification',
        workflowId: redeliveryId,
        runId: next.firstExecutionRunId,
        subscribers: redelivery.subscribers ?? [],
      };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new RedriveError('conflict', 'a redelivery for this run is already running', redeliveryId);
      }
      throw err;
    }
  }
  throw new RedriveError(
    'not_redrivable',
    `the run is ${status === 'CANCELLED' ? 'CANCELED' : status}; only closed runs can be redriven`,
  );
}

/** The details of the ApplicationFailure a failed run ended with (empty when it has none). */
async function failureDetails(client: Client, workflowId: string, runId: string): Promise<unknown[]> {
  try {
    await client.workflow.getHandle(workflowId, runId).result();
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
      return [...(err.cause.details ?? [])];
    }
  }
  return [];
}
