import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { cursorSchemaFor } from '../domain/sync-cursor-schema';
import type { SyncCursor } from '../domain/batch-sync';
import type { ConfiguredSync } from '../schedules/specs';
import type { batchSync } from '../workflows/batch-sync';
import {
  getSyncProgressQuery,
  getSyncStateQuery,
  setCursorUpdate,
  syncBackfillWorkflowId,
  syncScheduleId,
  syncStateWorkflowId,
} from '../workflows/batch-sync.messages';
import type { BatchSyncInput, SyncProgress, SyncStateData } from '../workflows/batch-sync.messages';
import type { syncState } from '../workflows/sync-state';
import { HttpError, zodIssues } from './errors';
import { optionalBody, workflowIdParams } from './params';
import { statusUrl } from './run-view';
import { reconciliationBody } from '../runs/start-specs';

// The request schemas are exported for the OpenAPI document, which is generated from them.
const isoInstant = z.iso.datetime({ offset: true });
export const backfillBody = z
  .object({ from: isoInstant, to: isoInstant })
  .strict()
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), {
    message: 'from must be before to',
    path: ['from'],
  });
export const redriveBody = z
  .object({ recordIds: z.array(z.string().min(1).max(40)).min(1).max(2000).optional() })
  .strict();

/**
 * The scheduled syncs: status with the running run's progress, trigger now, pause / resume (the
 * Schedule's own state, the same switch as the Web UI and `temporal schedule toggle`), backfill of a
 * time range, the cursor, and the quarantine with its redrive. See docs/flows/batch-sync.md.
 */
export function registerSyncRoutes(
  app: FastifyInstance,
  client: Client,
  opts: { syncs: ConfiguredSync[]; workflowQueue: string },
): void {
  const byName = new Map(opts.syncs.map((s) => [s.spec.name, s]));

  /** A sync named in a request that changes something: unknown is the caller's mistake (400). */
  const known = (name: string): ConfiguredSync => {
    const sync = byName.get(name);
    if (!sync) {
      throw new HttpError(
        400,
        'unknown_sync',
        `no sync named "${name}"; configured: ${[...byName.keys()].join(', ')}`,
      );
    }
    return sync;
  };

  async function stateOf(name: string): Promise<SyncStateData> {
    try {
      return await client.workflow.getHandle(syncStateWorkflowId(name)).query(getSyncStateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { name, quarantine: [], runs: [] };
      throw err;
    }
  }

  async function scheduleOf(name: string) {
    try {
      const d = await client.schedule.getHandle(syncScheduleId(name)).describe();
      return {
        id: d.scheduleId,
        paused: d.state.paused,
        note: d.state.note,
        nextRunAt: d.info.nextActionTimes[0]?.toISOString(),
        running: d.info.runningActions.map((a) => a.workflow),
        recent: d.info.recentActions.slice(-5).map((a) => ({
          scheduledAt: a.scheduledAt.toISOString(),
          workflowId: a.action.workflow.workflowId,
        })),
      };
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    }
  }

  const cursorTime = (c?: SyncCursor) =>
    c ? (c.system === 'salesforce' ? c.systemModstamp : c.createdAt) : undefined;

  async function summary(sync: ConfiguredSync) {
    const [state, schedule] = await Promise.all([stateOf(sync.spec.name), scheduleOf(sync.spec.name)]);
    const time = cursorTime(state.cursor);
    return {
      name: sync.spec.name,
      direction: sync.spec.direction,
      object: sync.spec.object,
      every: sync.every,
      schedule: schedule ?? null,
      cursor: state.cursor ?? null,
      cursorTime: time ?? null,
      cursorUpdatedAt: state.cursorUpdatedAt ?? null,
      // For dashboards: how far the cursor is behind now (the sync's lag), in seconds.
      lagSeconds: time ? Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000)) : null,
      quarantined: state.quarantine.length,
      lastRun: state.runs[0] ?? null,
    };
  }

  app.post('/v1/reconciliations', async (req, reply) => {
    const body = reconciliationBody.safeParse(optionalBody(req.body));
    if (!body.success)
      throw new HttpError(400, 'invalid_request', 'the request is invalid', zodIssues(body.error));
    const workflowId = `reconciliation:customers:${randomUUID()}`;
    const handle = await client.workflow.start('reconciliation', {
      workflowId,
      taskQueue: opts.workflowQueue,
      args: [{ name: 'customers', ...body.data }],
    });
    return reply.code(202).send({
      workflowId,
      runId: handle.firstExecutionRunId,
      statusUrl: `/v1/reconciliations/${workflowId}`,
    });
  });

  /** A reconciliation report: the run's result, kept by Temporal with the run. */
  app.get('/v1/reconciliations/:workflowId', async (req, reply) => {
    const { workflowId } = workflowIdParams.parse(req.params);
    if (!workflowId.startsWith('reconciliation:'))
      throw new HttpError(404, 'not_found', 'not a reconciliation run');
    const handle = client.workflow.getHandle(workflowId);
    const d = await handle.describe();
    if (d.status.name === 'RUNNING') return reply.code(202).send({ workflowId, status: 'RUNNING' });
    if (d.status.name !== 'COMPLETED') return { workflowId, status: d.status.name };
    return { workflowId, status: 'COMPLETED', report: (await handle.result()) as unknown };
  });

  app.get('/v1/syncs', async () => ({ syncs: await Promise.all(opts.syncs.map(summary)) }));

  app.get('/v1/syncs/:name', async (req) => {
    const { name } = req.params as { name: string };
    const sync = byName.get(name);
    if (!sync) throw new HttpError(404, 'not_found', `no sync named "${name}"`);
    const base = await summary(sync);
    let current: SyncProgress | null = null;
    const running = base.schedule?.running[0];
    if (running) {
      try {
        current = await client.workflow.getHandle(running.workflowId).query(getSyncProgressQuery);
      } catch {
        current = null; // finished between describe and query
      }
    }
    const state = await stateOf(name);
    return { ...base, current, runs: state.runs };
  });

  app.post('/v1/syncs/:name/trigger', async (req, reply) => {
    const { name } = req.params as { name: string };
    known(name);
    try {
      await client.schedule.getHandle(syncScheduleId(name)).trigger();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError)
        throw new HttpError(
          409,
          'schedule_missing',
          `the Schedule of "${name}" does not exist: run npm run schedules:apply`,
        );
      throw err;
    }
    return reply
      .code(202)
      .send({ triggered: name, overlap: 'SKIP: ignored while a run of this sync is going' });
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/v1/syncs/:name/${action}`, async (req) => {
      const { name } = req.params as { name: string };
      known(name);
      const handle = client.schedule.getHandle(syncScheduleId(name));
      try {
        if (action === 'pause') await handle.pause('paused through the API');
        else await handle.unpause('resumed through the API');
      } catch (err) {
        if (err instanceof ScheduleNotFoundError)
          throw new HttpError(409, 'schedule_missing', `the Schedule of "${name}" does not exist`);
        throw err;
      }
      return { name, paused: action === 'pause' };
    });
  }

  app.post('/v1/syncs/:name/backfill', async (req, reply) => {
    const { name } = req.params as { name: string };
    const sync = known(name);
    const body = backfillBody.safeParse(optionalBody(req.body));
    if (!body.success)
      throw new HttpError(400, 'invalid_request', 'the backfill range is invalid', zodIssues(body.error));
    const workflowId = syncBackfillWorkflowId(name, body.data);
    const input: BatchSyncInput = { spec: sync.spec, mode: 'backfill', backfill: body.data };
    const handle = await client.workflow.start<typeof batchSync>('batchSync', {
      workflowId,
      taskQueue: opts.workflowQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
    });
    return reply
      .code(202)
      .send({ workflowId, runId: handle.firstExecutionRunId, statusUrl: statusUrl(workflowId) });
  });

  app.put('/v1/syncs/:name/cursor', async (req) => {
    const { name } = req.params as { name: string };
    const sync = known(name);
    const raw: unknown = req.body;
    const given = typeof raw === 'object' && raw !== null && 'cursor' in raw ? raw.cursor : undefined;
    const parsed = cursorSchemaFor(sync.spec.direction).nullable().safeParse(given);
    if (!parsed.success || given === undefined) {
      throw new HttpError(
        400,
        'invalid_cursor',
        `cursor must be null or a ${sync.spec.direction === 'salesforce-to-sap' ? '{system: "salesforce", systemModstamp, id}' : '{system: "sap", createdAt, pointer}'} object`,
        parsed.success ? undefined : zodIssues(parsed.error),
      );
    }
    await client.workflow.start<typeof syncState>('syncState', {
      workflowId: syncStateWorkflowId(name),
      taskQueue: opts.workflowQueue,
      args: [{ name }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const result = await client.workflow
      .getHandle(syncStateWorkflowId(name))
      .executeUpdate(setCursorUpdate, { args: [{ cursor: parsed.data ?? undefined }] });
    return { name, cursor: result.cursor ?? null };
  });

  app.get('/v1/syncs/:name/quarantine', async (req) => {
    const { name } = req.params as { name: string };
    if (!byName.has(name)) throw new HttpError(404, 'not_found', `no sync named "${name}"`);
    const state = await stateOf(name);
    return { name, records: state.quarantine };
  });

  app.post('/v1/syncs/:name/quarantine/redrive', async (req, reply) => {
    const { name } = req.params as { name: string };
    const sync = known(name);
    const body = redriveBody.safeParse(optionalBody(req.body));
    if (!body.success)
      throw new HttpError(400, 'invalid_request', 'the redrive request is invalid', zodIssues(body.error));
    const state = await stateOf(name);
    const queued = new Set(state.quarantine.map((q) => q.recordId));
    const unknown = (body.data.recordIds ?? []).filter((id) => !queued.has(id));
    if (unknown.length > 0)
      throw new HttpError(
        400,
        'not_quarantined',
        `not in the quarantine of "${name}": ${unknown.join(', ')}`,
      );
    const workflowId = `sync-redrive:${name}:${randomUUID()}`;
    const input: BatchSyncInput = {
      spec: sync.spec,
      mode: 'redrive',
      redrive: body.data.recordIds ? { recordIds: body.data.recordIds } : {},
    };
    const handle = await client.workflow.start<typeof batchSync>('batchSync', {
      workflowId,
      taskQueue: opts.workflowQueue,
      args: [input],
    });
    return reply.code(202).send({
      workflowId,
      runId: handle.firstExecutionRunId,
      records: body.data.recordIds?.length ?? state.quarantine.length,
      statusUrl: statusUrl(workflowId),
    });
  });
}
