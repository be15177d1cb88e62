import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { redriveRun, RedriveError } from '../../runs/redrive';
import { serviceWorkflowTypes } from '../../workflows/workflow-types';
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

/** The query of `GET /v1/runs` (the OpenAPI document's parameters are generated from it). */
export const listQuery = z
  .object({
    flow: z
      .string()
      .max(64)
      .regex(/^[a-z0-9-]+$/)
      .optional(),
    /** A workflow type of the flows registry: lists every flow, those without an IntegrationFlow too. */
    type: z.enum(serviceWorkflowTypes as [string, ...string[]]).optional(),
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
      q.type && `WorkflowType = ${quote(q.type)}`,
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
    try {
      const done = await redriveRun(client, { workflowQueue }, workflowId);
      return reply.code(202).send({ ...done, statusUrl: statusUrl(done.workflowId) });
    } catch (err) {
      if (err instanceof RedriveError) {
        throw new HttpError(
          err.code === 'not_found' ? 404 : 409,
          err.code,
          err.message,
          err.relatedWorkflowId ? { statusUrl: statusUrl(err.relatedWorkflowId) } : undefined,
        );
      }
      throw err;
    }
  });
}
