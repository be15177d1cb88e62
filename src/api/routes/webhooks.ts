import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SourceEventError } from '../../domain/source-events';
import type { ParsedSourceEvent } from '../../domain/source-events';
import type { EntityEvent, SourceSystem } from '../../domain/entity-event';
import { deliverEntityEvent } from '../../ingress/entity-delivery';
import type { EntitySyncInput } from '../../workflows/entity-sync.messages';
import { eventSources, parseSourceRequest } from '../event-parsers';
import { SIGNATURE_TOLERANCE_SECONDS, verifyWebhookSignature, webhookKey } from '../../lib/standard-webhooks';

export { SIGNATURE_TOLERANCE_SECONDS, verifyWebhookSignature, webhookKey } from '../../lib/standard-webhooks';
export type { SignedHeaders, WebhookRejection } from '../../lib/standard-webhooks';

/**
 * Webhook ingress of the three sources (Salesforce change events, SAP order events, inventory stock
 * changes): `POST /webhooks/<source>`. Each request is verified (Standard Webhooks signature over the
 * exact bytes received, timestamp within tolerance), parsed into `EntityEvent`s and handed to the entity
 * workflow that owns the record by signal-with-start. Nothing else happens here — no calls to the
 * sources, no deduplication (the entity workflow drops an eventId it has seen, so a redelivery is just
 * signalled again and answered 200) — so the answer is as fast as one Temporal round trip.
 *
 * Sources authenticate by signature, not by the API's bearer token, so these routes live outside `/v1`.
 */

export interface WebhookSettings {
  /** `whsec_<base64>` secret per source; several while a secret is being rotated on our side. */
  secrets: Record<SourceSystem, string | readonly string[]>;
  /** FIELD_OWNERSHIP, passed to entity workflows when they start. */
  ownership?: EntitySyncInput['ownership'];
  /** ENTITY_IDLE_TIMEOUT, passed to entity workflows when they start. */
  idleTimeout?: string;
  toleranceSeconds?: number;
  /**
   * Put before every entity workflow id (`order:<id>` becomes `<prefix>order:<id>`): lets two
   * deployments, or two test files, share one namespace without sharing records' workflows.
   */
  workflowIdPrefix?: string;
}

export interface WebhookRouteSettings extends WebhookSettings {
  /** The coordinator task queue the entity workflows run on. */
  workflowQueue: string;
  temporalUiUrl?: string;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Registers `POST /webhooks/salesforce|sap|inventory` in their own encapsulated scope. */
export async function registerWebhookRoutes(
  app: FastifyInstance,
  client: Client,
  settings: WebhookRouteSettings,
): Promise<void> {
  const keys = Object.fromEntries(
    eventSources.map((source) => {
      const secrets = settings.secrets[source];
      return [source, (typeof secrets === 'string' ? [secrets] : [...secrets]).map(webhookKey)];
    }),
  ) as Record<SourceSystem, Buffer[]>;
  const now = settings.now ?? Date.now;
  const tolerance = settings.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;

  const deliver = (event: EntityEvent) => deliverEntityEvent(client, settings, event);

  const reject = (
    req: FastifyRequest,
    reply: FastifyReply,
    source: SourceSystem,
    status: number,
    error: string,
    reason: string,
  ) => {
    // Never the secret, the signature or the body: the id and the reason are enough to find the sender.
    req.log.warn({ source, webhookId: header(req, 'webhook-id'), error, reason }, 'webhook rejected');
    return reply.code(status).send({ error, message: reason });
  };

  await app.register((scope, _opts, done) => {
    // The signature covers the exact bytes sent, so this scope keeps the raw body; the rest of the API
    // keeps Fastify's JSON parser.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, body);
    });

    for (const source of eventSources) {
      scope.post(`/webhooks/${source}`, async (req, reply) => {
        const receivedAt = new Date(now()).toISOString();
        if (req.body !== undefined && !Buffer.isBuffer(req.body)) {
          return reject(req, reply, source, 415, 'unsupported_media_type', 'send application/json');
        }
        const rawBody = req.body ?? Buffer.alloc(0);
        const webhookId = header(req, 'webhook-id');
        const rejection = verifyWebhookSignature(
          keys[source],
          {
            id: webhookId,
            timestamp: header(req, 'webhook-timestamp'),
            signature: header(req, 'webhook-signature'),
          },
          rawBody,
          Math.floor(now() / 1000),
          tolerance,
        );
        if (rejection) return reject(req, reply, source, rejection.status, rejection.error, rejection.reason);

        let parsed: ParsedSourceEvent;
        try {
          parsed = parseSourceRequest(source, rawBody, webhookId ?? '', receivedAt);
        } catch (err) {
          if (err instanceof SourceEventError)
            return reject(req, reply, source, 400, 'invalid_event', err.message);
          throw err;
        }
        if ('ignored' in parsed) {
          req.log.info({ source, webhookId, reason: parsed.ignored }, 'webhook ignored');
          return { received: true, ignored: parsed.ignored };
        }
        // Several records (a Salesforce event with several recordIds) are several workflows: in parallel.
        // If one signal fails the source gets a 5xx and redelivers; records already signalled drop the
        // repeated eventId.
        const events = await Promise.all(parsed.events.map(deliver));
        return { received: true, events };
      });
    }
    done();
  });
}
