import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyFaults, createSimulatorApp, listen, registerAdminRoutes } from '../common/server';
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';
import { decodeSecret, DEFAULT_TOLERANCE_SECONDS, verifyDelivery } from './verify';
import type { VerificationFailure } from './verify';

export { computeSignature, decodeSecret, verifyDelivery } from './verify';
export type { VerificationFailure, VerificationResult, WebhookHeaders } from './verify';

export const WEBHOOK_CONSUMER_DEFAULT_PORT = 4030;
export const DEV_WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';

export const WEBHOOK_CONSUMER_FAULT_KINDS = [
  'server-error',
  'bad-gateway',
  'service-unavailable',
  'rate-limit',
  'gone',
  'bad-request',
  'timeout',
] as const;

export interface WebhookEndpointConfig {
  name: string;
  /** `whsec_<base64>`; several secrets are all accepted (the receiving side of a key rotation). */
  secret: string | readonly string[];
}

export interface WebhookConsumerOptions {
  endpoints?: readonly WebhookEndpointConfig[];
  /** Allowed clock difference in both directions; the spec's libraries use 5 minutes. */
  toleranceSeconds?: number;
  /** Oldest deliveries are dropped beyond this many records (the dedup memory is kept separately). */
  maxRecords?: number;
  /** How many accepted webhook-ids are remembered per endpoint for deduplication. */
  maxRememberedIds?: number;
  /** Clock used for the timestamp tolerance, in Unix seconds (tests). */
  now?: () => number;
}

export type DeliveryRejection = VerificationFailure | 'unknown-endpoint' | `fault:${string}`;

export interface WebhookDelivery {
  seq: number;
  endpoint: string;
  webhookId?: string;
  /** The `webhook-timestamp` header as Unix seconds, when it was a valid integer. */
  timestamp?: number;
  receivedAt: string;
  /** `type` of the parsed body, when the body is JSON with a string `type`. */
  type?: string;
  body: unknown;
  rawBody: string;
  /** The signature (and timestamp) checked out, whatever the answer was. */
  verified: boolean;
  /** A redelivery of an id this endpoint had already accepted: answered 200, no second effect. */
  duplicate: boolean;
  status: number;
  rejection?: DeliveryRejection;
  /** The fault kind that produced the answer, if any. */
  fault?: string;
}

export interface DeliveryFilter {
  endpoint?: string;
  type?: string;
  webhookId?: string;
  /** Only deliveries that were accepted for the first time (the "effects"). */
  accepted?: boolean;
  duplicate?: boolean;
  sinceSeq?: number;
}

export interface WebhookConsumerSimulator {
  readonly name: 'webhook-consumer';
  readonly core: SimulatorCore;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  /** Forgets deliveries and dedup memory and restores the configured endpoints (faults: see core). */
  reset(): void;
  deliveries(filter?: DeliveryFilter): WebhookDelivery[];
  /** Resolves with the first delivery (already recorded or arriving later) that satisfies the predicate. */
  waitFor(predicate: (d: WebhookDelivery) => boolean, timeoutMs?: number): Promise<WebhookDelivery>;
  endpoints(): WebhookEndpointConfig[];
  /** Adds or replaces an endpoint at run time. */
  setEndpoint(endpoint: WebhookEndpointConfig): void;
  removeEndpoint(name: string): boolean;
}

export const DEFAULT_WEBHOOK_ENDPOINTS: readonly WebhookEndpointConfig[] = [
  { name: 'default', secret: DEV_WEBHOOK_SECRET },
];

interface ResolvedEndpoint {
  config: WebhookEndpointConfig;
  keys: Buffer[];
  /** Accepted webhook-ids, insertion-ordered so the oldest can be evicted. */
  accepted: Set<string>;
}

interface Waiter {
  predicate: (d: WebhookDelivery) => boolean;
  resolve: (d: WebhookDelivery) => void;
}

/** How each verification failure is answered (the spec leaves codes to the receiver; 401 = not you). */
const REJECTION_STATUS: Record<VerificationFailure, number> = {
  'missing-headers': 400,
  'invalid-timestamp': 400,
  'timestamp-too-old': 400,
  'timestamp-too-new': 400,
  'no-matching-signature': 401,
};

const REJECTION_MESSAGE: Record<VerificationFailure, string> = {
  'missing-headers': 'webhook-id, webhook-timestamp and webhook-signature headers are required',
  'invalid-timestamp': 'webhook-timestamp must be integer Unix seconds',
  'timestamp-too-old': 'webhook-timestamp is older than the tolerance window',
  'timestamp-too-new': 'webhook-timestamp is further in the future than the tolerance window',
  'no-matching-signature': 'no v1 signature in webhook-signature matches this endpoint',
};

function resolveEndpoint(config: WebhookEndpointConfig): ResolvedEndpoint {
  const secrets = typeof config.secret === 'string' ? [config.secret] : [...config.secret];
  if (!config.name || !/^[A-Za-z0-9._~-]+$/.test(config.name)) {
    throw new Error(`webhook endpoint name "${config.name}" must be a non-empty URL path segment`);
  }
  if (secrets.length === 0) throw new Error(`webhook endpoint "${config.name}" needs at least one secret`);
  return {
    config: { name: config.name, secret: config.secret },
    keys: secrets.map(decodeSecret),
    accepted: new Set(),
  };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
}

/**
 * A webhook receiver that verifies Standard Webhooks signatures, deduplicates by webhook-id and
 * records every delivery, so tests can assert exactly what a subscriber would have seen.
 */
export function createWebhookConsumerSimulator(
  options: WebhookConsumerOptions = {},
): WebhookConsumerSimulator {
  const core = createSimulatorApp('webhook-consumer', WEBHOOK_CONSUMER_FAULT_KINDS);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const maxRecords = options.maxRecords ?? 10_000;
  const maxRememberedIds = options.maxRememberedIds ?? 100_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const configured = options.endpoints ?? DEFAULT_WEBHOOK_ENDPOINTS;

  let endpoints = new Map<string, ResolvedEndpoint>();
  let records: WebhookDelivery[] = [];
  let seq = 0;
  let waiters: Waiter[] = [];

  const loadEndpoints = () => {
    endpoints = new Map(configured.map((c) => [c.name, resolveEndpoint(c)]));
  };
  loadEndpoints();

  const record = (delivery: Omit<WebhookDelivery, 'seq'>): WebhookDelivery => {
    const entry: WebhookDelivery = { ...delivery, seq: ++seq };
    records.push(entry);
    if (records.length > maxRecords) records.splice(0, records.length - maxRecords);
    // Settle waiters after the bookkeeping so a waiter that inspects deliveries() sees this one.
    const due = waiters.filter((w) => w.predicate(entry));
    if (due.length > 0) {
      waiters = waiters.filter((w) => !due.includes(w));
      for (const w of due) w.resolve(entry);
    }
    return entry;
  };

  const matchesFilter = (d: WebhookDelivery, f: DeliveryFilter): boolean =>
    (f.endpoint === undefined || d.endpoint === f.endpoint) &&
    (f.type === undefined || d.type === f.type) &&
    (f.webhookId === undefined || d.webhookId === f.webhookId) &&
    (f.duplicate === undefined || d.duplicate === f.duplicate) &&
    (f.accepted === undefined || isAccepted(d) === f.accepted) &&
    (f.sinceSeq === undefined || d.seq > f.sinceSeq);

  const handleDelivery = async (req: FastifyRequest, reply: FastifyReply) => {
    const endpointName = (req.params as { endpoint: string }).endpoint;
    const rawBody = typeof req.body === 'string' ? req.body : '';
    let body: unknown = undefined;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined; // recorded as raw text only; the sender's signature still covers it
    }
    const type =
      body && typeof body === 'object' && typeof (body as { type?: unknown }).type === 'string'
        ? (body as { type: string }).type
        : undefined;

    // The event type is the "operation", so a fault can target e.g. only `customer.created` deliveries.
    const decision = await applyFaults(core, req, reply, type ?? 'delivery');
    if (decision === 'handled') return reply;

    const webhookId = header(req, 'webhook-id');
    const base = {
      endpoint: endpointName,
      webhookId,
      receivedAt: new Date().toISOString(),
      type,
      body,
      rawBody,
    };
    const endpoint = endpoints.get(endpointName);
    const verification = endpoint
      ? verifyDelivery(
          endpoint.keys,
          {
            id: webhookId,
            timestamp: header(req, 'webhook-timestamp'),
            signature: header(req, 'webhook-signature'),
          },
          rawBody,
          now(),
          tolerance,
        )
      : undefined;
    const timestamp = verification?.timestamp;
    const verified = verification?.ok === true;

    const faultKind = req.simFault;
    if (faultKind === 'timeout') {
      // The sender gave up long ago; whatever we answer now is never read, so this is not an effect.
      record({
        ...base,
        timestamp,
        verified,
        duplicate: false,
        status: 504,
        rejection: 'fault:timeout',
        fault: 'timeout',
      });
      return reply.code(504).send({ error: 'timeout', message: 'the consumer took too long to answer' });
    }
    const rule = decision.rule;
    if (rule) {
      const rendered = renderFault(rule.kind, rule.params);
      for (const [k, v] of Object.entries(rendered.headers)) void reply.header(k, v);
      // Not remembered for dedup: the sender's retry of this id must be accepted.
      record({
        ...base,
        timestamp,
        verified,
        duplicate: false,
        status: rendered.status,
        rejection: `fault:${rule.kind}`,
        fault: rule.kind,
      });
      return reply.code(rendered.status).send(rendered.body);
    }

    if (!endpoint || !verification) {
      record({ ...base, verified: false, duplicate: false, status: 404, rejection: 'unknown-endpoint' });
      return reply
        .code(404)
        .send({ error: 'not_found', message: `no webhook endpoint named "${endpointName}"` });
    }
    if (!verification.ok) {
      const status = REJECTION_STATUS[verification.reason];
      record({
        ...base,
        timestamp,
        verified: false,
        duplicate: false,
        status,
        rejection: verification.reason,
      });
      return reply
        .code(status)
        .send({ error: verification.reason, message: REJECTION_MESSAGE[verification.reason] });
    }

    const id = webhookId as string; // verification guarantees the header is present
    const duplicate = endpoint.accepted.has(id);
    if (!duplicate) {
      endpoint.accepted.add(id);
      if (endpoint.accepted.size > maxRememberedIds) {
        const oldest = endpoint.accepted.values().next().value;
        if (oldest !== undefined) endpoint.accepted.delete(oldest);
      }
    }
    record({ ...base, timestamp, verified: true, duplicate, status: 200 });
    return reply.code(200).send({ received: true, id, duplicate });
  };

  // Encapsulated plugin: the raw-string body parser applies to deliveries only, while the admin routes
  // on the parent app keep Fastify's JSON parser. Signatures cover the exact bytes, so never re-serialise.
  void core.app.register((hooks, _opts, done) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'string' }, (_req, payload, next) => next(null, payload));
    hooks.post('/hooks/:endpoint', handleDelivery);
    done();
  });

  registerAdminRoutes(core, {
    reset: () => reset(),
    records: (q) =>
      records.filter((d) =>
        matchesFilter(d, {
          endpoint: q.endpoint,
          type: q.type,
          webhookId: q.webhookId,
          duplicate: q.duplicate === undefined ? undefined : q.duplicate === 'true',
          accepted: q.accepted === undefined ? undefined : q.accepted === 'true',
          sinceSeq: q.sinceSeq === undefined ? undefined : Number(q.sinceSeq),
        }),
      ),
  });

  core.app.get('/__admin/endpoints', (_req, reply) =>
    reply.send([...endpoints.values()].map((e) => ({ name: e.config.name, secret: e.config.secret }))),
  );
  core.app.put('/__admin/endpoints/:name', (req, reply) => {
    const name = (req.params as { name: string }).name;
    const secret = (req.body as { secret?: unknown } | undefined)?.secret;
    const valid =
      typeof secret === 'string' ||
      (Array.isArray(secret) && secret.length > 0 && secret.every((s) => typeof s === 'string'));
    if (!valid)
      return reply.code(400).send({ error: 'body must be {"secret": "whsec_..." | ["whsec_...", ...]}' });
    try {
      setEndpoint({ name, secret });
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    return reply.send({ name, secret });
  });
  core.app.delete('/__admin/endpoints/:name', (req, reply) =>
    reply.code(removeEndpoint((req.params as { name: string }).name) ? 204 : 404).send(),
  );

  function setEndpoint(config: WebhookEndpointConfig): void {
    const resolved = resolveEndpoint(config);
    // Rotating a secret must not make already-accepted ids acceptable a second time.
    const previous = endpoints.get(config.name);
    if (previous) resolved.accepted = previous.accepted;
    endpoints.set(config.name, resolved);
  }

  function removeEndpoint(name: string): boolean {
    return endpoints.delete(name);
  }

  function reset(): void {
    records = [];
    loadEndpoints();
  }

  return {
    name: 'webhook-consumer',
    core,
    start: (opts = {}) => listen(core, { port: opts.port ?? WEBHOOK_CONSUMER_DEFAULT_PORT, host: opts.host }),
    reset,
    deliveries: (filter = {}) => records.filter((d) => matchesFilter(d, filter)).map((d) => ({ ...d })),
    waitFor: (predicate, timeoutMs = 10_000) => {
      const existing = records.find(predicate);
      if (existing) return Promise.resolve({ ...existing });
      return new Promise<WebhookDelivery>((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          resolve: (d) => {
            clearTimeout(timer);
            resolve({ ...d });
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`webhook-consumer: no matching delivery within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    endpoints: () => [...endpoints.values()].map((e) => ({ ...e.config })),
    setEndpoint,
    removeEndpoint,
  };
}

/** A delivery the consumer accepted for the first time (i.e. one that had an effect). */
export function isAccepted(d: WebhookDelivery): boolean {
  return d.status >= 200 && d.status < 300 && !d.duplicate;
}

interface RenderedFault {
  status: number;
  headers: Record<string, string>;
  body: { error: string; message: string };
}

function retryAfter(params: Record<string, unknown> | undefined): number | undefined {
  const v = params?.retryAfterSeconds;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}

/** The consumer's (or its gateway's) HTTP answer for each fault kind. */
function renderFault(kind: string, params: Record<string, unknown> | undefined): RenderedFault {
  switch (kind) {
    case 'bad-gateway':
      return {
        status: 502,
        headers: {},
        body: { error: 'bad_gateway', message: 'upstream consumer unreachable' },
      };
    case 'service-unavailable': {
      const after = retryAfter(params);
      return {
        status: 503,
        headers: after === undefined ? {} : { 'retry-after': String(after) },
        body: { error: 'service_unavailable', message: 'consumer temporarily unavailable' },
      };
    }
    case 'rate-limit':
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfter(params) ?? 1) },
        body: { error: 'rate_limited', message: 'too many deliveries' },
      };
    case 'gone':
      return {
        status: 410,
        headers: {},
        body: { error: 'gone', message: 'endpoint disabled; stop sending' },
      };
    case 'bad-request':
      return {
        status: 400,
        headers: {},
        body: { error: 'bad_request', message: 'consumer rejected the payload' },
      };
    case 'server-error':
    default:
      return { status: 500, headers: {}, body: { error: 'internal_error', message: 'consumer failed' } };
  }
}
