import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SourceEventError } from '../domain/source-events';
import type { ParsedSourceEvent } from '../domain/source-events';
import { entityEventSignal, routeEntityEvent } from '../workflows/entity-sync.messages';
import type { EntityEvent, EntitySyncInput, SourceSystem } from '../workflows/entity-sync.messages';
import { BusinessKey, IntegrationFlow } from '../workflows/search-attributes';
import { eventSources, parseSourceRequest } from './event-parsers';

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

export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

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

export type WebhookRejection =
  | { status: 401; error: 'missing_signature' | 'invalid_signature'; reason: string }
  | { status: 400; error: 'stale_timestamp'; reason: string };

export interface SignedHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/** The HMAC key of a `whsec_<base64>` secret. */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new Error('a Standard Webhooks secret starts with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  if (key.length === 0) throw new Error('the webhook secret is empty');
  return key;
}

/**
 * Standard Webhooks verification, written from the spec: HMAC-SHA256 with the secret's key over
 * `${webhook-id}.${webhook-timestamp}.${body}`, sent as one or more space-separated `v1,<base64>`
 * entries (a sender rotating its secret signs with both); any entry matching any of our keys passes.
 *
 * The signature is checked BEFORE the timestamp window, so an unauthenticated caller only ever learns
 * "401"; a 400 for the timestamp goes to a genuine sender whose clock is off, or to a genuine delivery
 * replayed too late — both worth telling apart in the log. Returns undefined when the request is authentic.
 */
export function verifyWebhookSignature(
  keys: readonly Buffer[],
  headers: SignedHeaders,
  rawBody: Buffer,
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): WebhookRejection | undefined {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    const missing = [
      !id && 'webhook-id',
      !timestamp && 'webhook-timestamp',
      !signature && 'webhook-signature',
    ]
      .filter(Boolean)
      .join(', ');
    return { status: 401, error: 'missing_signature', reason: `missing header(s): ${missing}` };
  }

  // Compared as base64 text, not decoded bytes: Node's base64 decoder skips junk characters, so
  // decoding would also accept "<valid signature>!!". Lengths are equal for every real signature (44).
  const expected = keys.map((key) =>
    Buffer.from(
      createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest('base64'),
      'utf8',
    ),
  );
  const matches = signature.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false; // other schemes are not ours to check
    const given = Buffer.from(entry.slice(comma + 1), 'utf8');
    return expected.some((e) => e.length === given.length && timingSafeEqual(e, given));
  });
  if (!matches) return { status: 401, error: 'invalid_signature', reason: 'no matching v1 signature' };

  if (!/^\d{1,15}$/.test(timestamp)) {
    return {
      status: 400,
      error: 'stale_timestamp',
      reason: `webhook-timestamp "${timestamp}" is not unix seconds`,
    };
  }
  const skew = nowSeconds - Number(timestamp);
  if (Math.abs(skew) > toleranceSeconds) {
    return {
      status: 400,
      error: 'stale_timestamp',
      reason: `webhook-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'} (tolerance ${toleranceSeconds} s)`,
    };
  }
  return undefined;
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

  const deliver = async (event: EntityEvent) => {
    const routed = routeEntityEvent(event);
    const route = { ...routed, workflowId: `${settings.workflowIdPrefix ?? ''}${routed.workflowId}` };
    const input: EntitySyncInput = {
      route,
      ownership: settings.ownership,
      idleTimeout: settings.idleTimeout,
      temporalUiUrl: settings.temporalUiUrl,
    };
    // Starts the record's workflow if none runs, else only signals it: either way one round trip, and
    // events for one record queue up in that one workflow in arrival order.
    await client.workflow.signalWithStart(route.workflowType, {
      workflowId: route.workflowId,
      taskQueue: settings.workflowQueue,
      args: [input],
      signal: entityEventSignal,
      signalArgs: [event],
      typedSearchAttributes: [
        { key: IntegrationFlow, value: 'event-sync' },
        { key: BusinessKey, value: route.businessKey },
      ],
    });
    return { eventId: event.eventId, workflowId: route.workflowId };
  };

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
