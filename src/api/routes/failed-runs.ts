import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listFailedRuns, PageTokenError } from '../../runs/failed-runs';
import type { bulkRedrive } from '../../workflows/bulk-redrive';
import { bulkRedriveWorkflowId, getBulkRedriveProgressQuery } from '../../workflows/bulk-redrive.messages';
import type { BulkRedriveProgress } from '../../workflows/bulk-redrive.messages';
import { HttpError } from '../errors';
import { optionalBody, workflowIdParams } from '../params';
import { statusUrl } from '../run-view';

/** An RFC 3339 date-time with its offset (`format: date-time` in the OpenAPI document). */
const isoInstant = z.iso.datetime({
  offset: true,
  error: 'must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z',
});

const failedRunsFilter = z.object({
  flow: z
    .string()
    .max(64)
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  failureType: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must be a failure type such as SapBusinessError')
    .optional(),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
});

const fromBeforeTo = (q: { from?: string; to?: string }) =>
  !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to);
const fromBeforeToIssue = { message: 'from must be before to', path: ['from'] };

/** The query of `GET /v1/failed-runs` (the OpenAPI document's parameters are generated from it). */
export const failedRunsQuery = failedRunsFilter
  .extend({
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
    pageToken: z
      .string()
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a nextPageToken of an earlier answer')
      .optional(),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToIssue);

/** The body of `POST /v1/failed-runs/redrive` (the OpenAPI document's request body is generated from it). */
export const bulkRedriveBody = failedRunsFilter
  .extend({
    ratePerSecond: z.number().gt(0).max(50).default(2),
    maxRuns: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToIssue);

/**
 * `GET /v1/failed-runs`: failed runs by flow, close-time range and failure type, with paging.
 * `POST /v1/failed-runs/redrive`: a bulk redrive of the runs a filter matches, as a workflow at a
 * bounded rate; `GET /v1/failed-runs/redrive/:workflowId`: its progress.
 */
export function registerFailedRunRoutes(
  app: FastifyInstance,
  client: Client,
  settings: { workflowQueue: string },
): void {
  app.get('/v1/failed-runs', async (req) => {
    try {
      const page = await listFailedRuns(client, settings.workflowQueue, failedRunsQuery.parse(req.query));
      return { ...page, runs: page.runs.map((r) => ({ ...r, statusUrl: statusUrl(r.workflowId) })) };
    } catch (err) {
      if (err instanceof PageTokenError) {
        throw new HttpError(400, 'invalid_request', err.message, { parameter: 'pageToken' });
      }
      throw err;
    }
  });

  app.post('/v1/failed-runs/redrive', async (req, reply) => {
    const { ratePerSecond, maxRuns, ...filter } = bulkRedriveBody.parse(optionalBody(req.body));
    const workflowId = bulkRedriveWorkflowId(randomUUID());
    await client.workflow.start<typeof bulkRedrive>('bulkRedrive', {
      workflowId,
      taskQueue: settings.workflowQueue,
      args: [{ filter, ratePerSecond, maxRuns }],
    });
    return reply.code(202).send({
      workflowId,
      statusUrl: `/v1/failed-runs/redrive/${encodeURIComponent(workflowId)}`,
    });
  });

  app.get('/v1/failed-runs/redrive/:workflowId', async (req) => {
    const { workflowId } = workflowIdParams.parse(req.params);
    if (!workflowId.startsWith(bulkRedriveWorkflowId(''))) {
      throw new HttpError(404, 'not_found', 'no bulk redrive with this id');
    }
    const handle = client.workflow.getHandle<typeof bulkRedrive>(workflowId);
    const d = await handle.describe();
    if (d.taskQueue !== settings.workflowQueue)
      throw new HttpError(404, 'not_found', 'no bulk redrive with this id');
    const progress: BulkRedriveProgress | undefined =
      d.status.name === 'COMPLETED'
        ? await handle.result()
        : await handle.query(getBulkRedriveProgressQuery).catch(() => undefined);
    return { workflowId, status: d.status.name, progress };
  });
}
