import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CustomerCreationResult } from '../../workflows/customer-creation.messages';
import { customerCreationWorkflowType } from '../../workflows/customer-creation.messages';
import { notificationRedeliveryWorkflowId } from '../../workflows/notification-delivery.messages';
import type { notificationDelivery } from '../../workflows/notification-delivery';
import { BusinessKey, IdempotencyKey, IntegrationFlow } from '../../workflows/shared/search-attributes';
import { HttpError } from '../errors';
import { safeText, workflowIdParams } from '../params';
import { describeOwnRun, describeRun, normaliseStatus, statusUrl } from '../run-view';

const visibilityStatus: Record<string, string> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CONTINUED_AS_NEW: 'ContinuedAsNew',
};

const listQuery = z
  .object({
    flow: z
      .string()
      .max(64)
      .regex(/^[a-z0-9-]+$/)
      .optional(),
    status: z.enum(Object.keys(visibilityStatus) as [string, ...string[]]).optional(),
    businessKey: safeText(255).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A visibility query answers within this or the caller gets a 503, never a 20-second retry loop. */
export const visibilityDeadlineMs = 5_000;

export interface RunRouteSettings {
  temporalUiUrl: string;
  /** This service's coordinator task queue: the only runs the API lists, reads, cancels or redrives. */
  workflowQueue: string;
}

/**
 * Runs, whatever their flow: status, list (failed runs are Temporal's history, not a dead-letter
 * queue), cancel, and redrive.
 */
export function registerRunRoutes(app: FastifyInstance, client: Client, settings: RunRouteSettings): void {
  const { temporalUiUrl, workflowQueue } = settings;
  app.get('/v1/runs', async (req) => {
    const q = listQuery.parse(req.query);
    const clauses = [
      `TaskQueue = ${quote(workflowQueue)}`,
      q.flow && `IntegrationFlow = ${quote(q.flow)}`,
      q.status && `ExecutionStatus = '${visibilityStatus[q.status]}'`,
      q.businessKey && `BusinessKey = ${quote(q.businessKey)}`,
    ].filter(Boolean);
    const runs: unknown[] = [];
    await client.connection.withDeadline(Date.now() + visibilityDeadlineMs, async () => {
      for await (const wf of client.workflow.list({ query: clauses.join(' AND '), pageSize: q.limit })) {
        runs.push({
          workflowId: wf.workflowId,
          runId: wf.runId,
          workflowType: wf.type,
          status: normaliseStatus(wf.status.name),
          startTime: wf.startTime.toISOString(),
          closeTime: wf.closeTime?.toISOString(),
          statusUrl: statusUrl(wf.workflowId),
        });
        if (runs.length >= q.limit) break;
      }
    });
    return { runs };
  });

  app.get('/v1/runs/:workflowId', async (req) => {
    const { workflowId } = workflowIdParams.parse(req.params);
    return describeRun(client, temporalUiUrl, workflowQueue, workflowId);
  });

  app.post('/v1/runs/:workflowId/cancel', async (req, reply) => {
    const { workflowId } = workflowIdParams.parse(req.params);
    const handle = client.workflow.getHandle(workflowId);
    const d = await describeOwnRun(client, workflowQueue, workflowId);
    if (d.status.name !== 'RUNNING') {
      throw new HttpError(409, 'not_running', `the run is ${normaliseStatus(d.status.name)}, not RUNNING`);
    }
    await handle.cancel();
    return reply
      .code(202)
      .send({ workflowId, runId: d.runId, cancelRequested: true, statusUrl: statusUrl(workflowId) });
  });

  app.post('/v1/runs/:workflowId/redrive', async (req, reply) => {
    const { workflowId } = workflowIdParams.parse(req.params);
    const handle = client.workflow.getHandle(workflowId);
    const d = await describeOwnRun(client, workflowQueue, workflowId);
    const status = normaliseStatus(d.status.name);
    if (d.type !== customerCreationWorkflowType) {
      throw new HttpError(409, 'not_redrivable', `runs of ${d.type} cannot be redriven from the API`);
    }
    if (['FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT'].includes(status)) {
      // A new run with the same id and the original input (read from the history, never re-sent by a caller).
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const args = await decodeArrayFromPayloads(
        client.options.loadedDataConverter,
        started?.input?.payloads,
      );
      try {
        // Only the start-time attributes: the step and system ids are set again by the new run.
        const startAttributes = d.typedSearchAttributes
          .getAll()
          .filter((p) => [IntegrationFlow.name, BusinessKey.name, IdempotencyKey.name].includes(p.key.name));
        const next = await client.workflow.start(customerCreationWorkflowType, {
          workflowId,
          taskQueue: d.taskQueue,
          args,
          memo: d.memo,
          typedSearchAttributes: startAttributes,
          staticSummary: `Redrive of ${workflowId} (previous run ${d.runId})`,
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        });
        return reply.code(202).send({
          redrive: 'restarted',
          workflowId,
          runId: next.firstExecutionRunId,
          previousRunId: d.runId,
          statusUrl: statusUrl(workflowId),
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new HttpError(409, 'conflict', 'a newer run with this id is already running');
        }
        throw err;
      }
    }
    if (status === 'COMPLETED') {
      const result = (await client.workflow
        .getHandle(workflowId, d.runId)
        .result()) as CustomerCreationResult;
      const failed = result.notification.deliveries
        .filter((x) => x.status === 'failed')
        .map((x) => x.subscriber);
      if (!failed.length || !result.notification.data) {
        throw new HttpError(
          409,
          'nothing_to_redrive',
          'the run completed and every notification was delivered',
        );
      }
      const redeliveryId = notificationRedeliveryWorkflowId(workflowId);
      const previous = await client.workflow
        .getHandle(redeliveryId)
        .describe()
        .catch(() => undefined);
      if (previous?.status.name === 'COMPLETED') {
        throw new HttpError(409, 'nothing_to_redrive', 'the failed deliveries were already redelivered', {
          statusUrl: statusUrl(redeliveryId),
        });
      }
      try {
        const next = await client.workflow.start<typeof notificationDelivery>('notificationDelivery', {
          workflowId: redeliveryId,
          taskQueue: d.taskQueue,
          args: [
            {
              sourceKey: workflowId,
              type: result.notification.eventType,
              data: result.notification.data,
              occurredAt: result.notification.occurredAt,
              subscribers: failed,
            },
          ],
          typedSearchAttributes: d.typedSearchAttributes,
          workflowIdConflictPolicy: 'FAIL',
        });
        return reply.code(202).send({
          redrive: 'notification',
          workflowId: redeliveryId,
          runId: next.firstExecutionRunId,
          subscribers: failed,
          statusUrl: statusUrl(redeliveryId),
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new HttpError(409, 'conflict', 'a redelivery for this run is already running', {
            statusUrl: statusUrl(redeliveryId),
          });
        }
        throw err;
      }
    }
    throw new HttpError(409, 'not_redrivable', `the run is ${status}; only closed runs can be redriven`);
  });
}
