/** The simulator's own admin API (`/__admin/...`): records, changes "made in the UI", sessions, limits, events. */
import type { FastifyReply } from 'fastify';
import { registerAdminRoutes } from '../common/server';
import type { OutboundTarget } from '../common/outbound';
import type { createChangeEvents } from './change-events';
import { SfError, notFound } from './errors';
import type { SalesforceOrg } from './org';
import { SCHEMA, findObject } from './schema';
import type { ObjectDef } from './schema';
import type { DmlContext } from './store';
import type { SalesforceSimulator } from './types';

/** A change "made in the UI" by the org's UI user: published as change events with no API origin. */
export function createUiChange(
  org: SalesforceOrg,
  publish: ReturnType<typeof createChangeEvents>['publish'],
) {
  return (type: string, fn: (def: ObjectDef, d: DmlContext) => void) => {
    const def = findObject(type);
    if (!def) throw notFound();
    const d: DmlContext = { userId: org.options.uiUserId, now: org.now(), changes: [] };
    fn(def, d);
    // A change made in the classic UI carries no API origin.
    publish(d.changes, '');
  };
}

export function registerSalesforceAdmin(org: SalesforceOrg, sim: SalesforceSimulator): void {
  const { core, events, sessions, issued, usage } = org;
  registerAdminRoutes(core, {
    reset: () => sim.reset(),
    records: (q) => {
      const includeDeleted = q.includeDeleted === 'true';
      if (q.type && q.id) return sim.record(q.type, q.id) ?? null;
      if (q.type) return sim.records(q.type, { includeDeleted });
      return Object.fromEntries([...SCHEMA.keys()].map((t) => [t, sim.records(t, { includeDeleted })]));
    },
  });

  const adminError = (reply: FastifyReply, err: unknown) => {
    if (err instanceof SfError)
      return reply.code(err.status === 401 ? 400 : err.status).send(err.toRestBody());
    if (err instanceof Error)
      return reply.code(400).send([{ message: err.message, errorCode: 'INVALID_INPUT' }]);
    throw err;
  };

  core.app.post('/__admin/sessions/expire', (req, reply) => {
    const body = (req.body ?? {}) as { revokeRefreshTokens?: boolean };
    return reply.send({
      expired: sim.expireSessions({ revokeRefreshTokens: body.revokeRefreshTokens === true }),
    });
  });
  core.app.get('/__admin/sessions', (_req, reply) =>
    reply.send({
      active: sessions.size,
      tokensIssued: issued.map((t) => ({ grantType: t.grantType, at: t.at })),
    }),
  );
  core.app.get('/__admin/limits', (_req, reply) => reply.send(sim.apiUsage()));
  core.app.put('/__admin/limits', (req, reply) => {
    const body = (req.body ?? {}) as { used?: number; limit?: number; windowMs?: number; advanceMs?: number };
    const bad = (['used', 'limit', 'windowMs', 'advanceMs'] as const).find(
      (k) => body[k] !== undefined && !(Number.isInteger(body[k]) && body[k] >= 0),
    );
    if (bad)
      return reply
        .code(400)
        .send([{ message: `${bad} must be a non-negative integer`, errorCode: 'INVALID_INPUT' }]);
    if (body.windowMs !== undefined) sim.setApiUsageWindow(body.windowMs);
    if (body.used !== undefined || body.limit !== undefined)
      sim.setApiUsage(body.used ?? usage.used(), body.limit);
    if (body.advanceMs !== undefined) sim.advanceApiUsageWindow(body.advanceMs);
    return reply.send(sim.apiUsage());
  });
  core.app.get('/__admin/events', (_req, reply) =>
    reply.send({ configured: events.isConfigured(), deliveries: events.list(), events: sim.changeEvents() }),
  );
  core.app.put('/__admin/events', (req, reply) => {
    const body = (req.body ?? {}) as Partial<OutboundTarget>;
    sim.configureEvents(body.url && body.secret ? { url: body.url, secret: body.secret } : undefined);
    return reply.send({ configured: events.isConfigured() });
  });
  core.app.post('/__admin/records/:type', (req, reply) => {
    try {
      const ids = sim.seed((req.params as { type: string }).type, req.body as Record<string, unknown>);
      return reply.code(201).send({ ids });
    } catch (err) {
      return adminError(reply, err);
    }
  });
  core.app.post('/__admin/records/:type/:id', (req, reply) => {
    const { type, id } = req.params as { type: string; id: string };
    try {
      sim.uiUpdate(type, id, (req.body ?? {}) as Record<string, unknown>);
      return reply.send(sim.record(type, id));
    } catch (err) {
      return adminError(reply, err);
    }
  });
  core.app.delete('/__admin/records/:type/:id', (req, reply) => {
    const { type, id } = req.params as { type: string; id: string };
    try {
      sim.uiDelete(type, id);
      return reply.code(204).send();
    } catch (err) {
      return adminError(reply, err);
    }
  });
}
