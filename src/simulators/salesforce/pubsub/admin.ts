import type { FastifyInstance } from 'fastify';
import type { PubSubService } from './service';

/**
 * `/__admin/pubsub/…`: what the Pub/Sub service holds, and the faults Salesforce can produce that a
 * subscriber must handle — gap and overflow events, a payload no Avro decoder can read, an event whose
 * schema id is unknown, and the retention window passing (every stored event purged).
 */
export function registerPubSubAdminRoutes(
  app: FastifyInstance,
  pubsub: PubSubService,
  info: () => { endpoint?: string; caCertificate?: string },
): void {
  const entityOf = (body: unknown) => {
    const entity = (body as { entity?: unknown } | undefined)?.entity;
    return typeof entity === 'string' ? entity : '';
  };
  const fail = (err: unknown) => ({ error: (err as Error).message });

  app.get('/__admin/pubsub', () => ({
    ...info(),
    latestReplayId: pubsub.latestReplayId(),
    channels: pubsub.schemas().map((s) => ({ channel: s.channel, schemaId: s.schemaId })),
  }));
  app.get('/__admin/pubsub/events', (req) =>
    pubsub.events((req.query as { channel?: string }).channel || undefined),
  );
  app.post('/__admin/pubsub/gap', (req, reply) => {
    const body = (req.body ?? {}) as { changeType?: string; recordIds?: unknown };
    const changeType = body.changeType ?? 'GAP_UPDATE';
    const gapTypes = ['GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW'] as const;
    const type = gapTypes.find((t) => t === changeType);
    if (!type) return reply.code(400).send({ error: `changeType must be one of ${gapTypes.join(', ')}` });
    const recordIds = Array.isArray(body.recordIds) ? body.recordIds.map(String) : [];
    try {
      return { replayId: pubsub.injectGap(entityOf(req.body), type, recordIds) };
    } catch (err) {
      return reply.code(400).send(fail(err));
    }
  });
  app.post('/__admin/pubsub/malformed', (req, reply) => {
    try {
      return { replayId: pubsub.injectMalformed(entityOf(req.body)) };
    } catch (err) {
      return reply.code(400).send(fail(err));
    }
  });
  app.post('/__admin/pubsub/unknown-schema', (req, reply) => {
    try {
      return { replayId: pubsub.injectUnknownSchema(entityOf(req.body)) };
    } catch (err) {
      return reply.code(400).send(fail(err));
    }
  });
  app.post('/__admin/pubsub/purge', () => ({ purged: pubsub.purge() }));
}
