import type { FastifyReply, FastifyRequest } from 'fastify';
import qs from 'qs';
import { applyFaults, createSimulatorApp, listen, registerAdminRoutes } from '../common/server';
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';
import { CustomerStore, validateCustomerParams } from './customers';
import type { Customer, FormParams } from './customers';
import { invalidRequest, StripeHttpError, stripeId } from './errors';
import type { StripeErrorBody } from './errors';
import { IdempotencyLayer } from './idempotency';
import type { IdempotencyEntry, SavedResponse } from './idempotency';
import { parseSearchQuery, SearchQueryError } from './search';

export type { Customer, DeletedCustomer } from './customers';
export type { IdempotencyEntry } from './idempotency';

export const BILLING_DEFAULT_PORT = 4050;
/** The simulator's test-mode secret key (Stripe's `sk_test_` format). */
export const DEV_BILLING_SECRET_KEY = 'sk_test_devBillingLocalOnly0123456789';
/** The API version the simulator reports when a request names none. */
export const BILLING_API_VERSION = '2025-01-27.acacia';

export const BILLING_FAULT_KINDS = [
  'rate-limit',
  'lock-timeout',
  'api-error',
  'service-unavailable',
  'card-declined',
  'timeout',
] as const;

export interface BillingSimulatorOptions {
  /** Accepted secret keys (`Authorization: Bearer <key>`, or Basic with the key as user name). */
  secretKeys?: readonly string[];
  /** Requests per second per key before 429 `rate_limit` answers; none by default. */
  requestsPerSecond?: number;
  /** How long after a write a customer becomes visible to search (Stripe documents up to a minute). */
  searchIndexDelayMs?: number;
  /** How long idempotency keys are remembered (Stripe: at least 24 hours). */
  idempotencyTtlMs?: number;
}

export interface BillingSimulator {
  readonly name: 'billing';
  readonly core: SimulatorCore;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  reset(): void;
  /** Every customer, deleted ones included (`deleted: true`). */
  customers(filter?: {
    metadata?: Record<string, string>;
    email?: string;
  }): (Customer & { deleted?: true })[];
  customer(id: string): (Customer & { deleted?: true }) | undefined;
  idempotencyKeys(): IdempotencyEntry[];
}

interface Answer {
  status: number;
  body: unknown;
}

type Handler = (ctx: { params: FormParams; id?: string; livemode: boolean; url: string }) => Answer;

/**
 * A Stripe-compatible billing API (customers), spoken by the official `stripe` client: form-encoded
 * bodies with bracket notation, Bearer secret-key auth, Stripe's error object, `Request-Id` on every
 * answer, idempotent POSTs, list pagination and the search query language, and 429s that carry the
 * headers Stripe's clients decide retries by (`Stripe-Should-Retry`, `Retry-After`).
 */
export function createBillingSimulator(options: BillingSimulatorOptions = {}): BillingSimulator {
  const core = createSimulatorApp('billing', BILLING_FAULT_KINDS);
  const { app } = core;
  const keys = new Set(options.secretKeys ?? [DEV_BILLING_SECRET_KEY]);
  const store = new CustomerStore(options.searchIndexDelayMs ?? 0);
  const idempotency = new IdempotencyLayer(options.idempotencyTtlMs);
  const windows = new Map<string, number[]>();

  // Stripe's v1 API takes application/x-www-form-urlencoded bodies with bracket notation
  // (`metadata[reference]=x`, `preferred_locales[0]=en`).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, qs.parse(body as string, { depth: 5, arrayLimit: 100, parameterLimit: 1000 }));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const sendError = (
    reply: FastifyReply,
    status: number,
    error: StripeErrorBody,
    headers: Record<string, string> = {},
  ) => {
    for (const [h, v] of Object.entries(headers)) void reply.header(h, v);
    return reply.code(status).send({ error: { ...error, request_id: reply.getHeader('request-id') } });
  };

  const authenticate = (req: FastifyRequest): string => {
    const header = req.headers.authorization;
    let key: string | undefined;
    if (typeof header === 'string') {
      const [scheme, value = ''] = header.split(' ', 2);
      if (scheme?.toLowerCase() === 'bearer') key = value.trim();
      else if (scheme?.toLowerCase() === 'basic')
        key = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
    }
    if (!key) {
      throw new StripeHttpError(
        401,
        {
          type: 'invalid_request_error',
          message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        },
        { 'www-authenticate': 'Bearer realm="Stripe"' },
      );
    }
    if (!keys.has(key)) {
      throw new StripeHttpError(
        401,
        {
          type: 'invalid_request_error',
          message: `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}`,
        },
        { 'www-authenticate': 'Bearer realm="Stripe"' },
      );
    }
    return key;
  };

  const rateLimit = (key: string): void => {
    const limit = options.requestsPerSecond;
    if (!limit) return;
    const now = Date.now();
    const recent = (windows.get(key) ?? []).filter((t) => t > now - 1000);
    if (recent.length >= limit) {
      windows.set(key, recent);
      throw rateLimitError(1);
    }
    recent.push(now);
    windows.set(key, recent);
  };

  /**
   * Every API route: request id, auth, rate limit, idempotency, faults, then the handler. Faults come
   * after the idempotency check so that latency and timeouts happen while the key is "executing".
   */
  const api = (operation: string, handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    const requestId = stripeId('req');
    void reply.header('request-id', requestId);
    const version = req.headers['stripe-version'];
    void reply.header('stripe-version', typeof version === 'string' ? version : BILLING_API_VERSION);
    let apiKey: string | undefined;
    let idemKey: string | undefined;
    try {
      apiKey = authenticate(req);
      rateLimit(apiKey);
      const [path = req.url, query = ''] = req.url.split('?', 2);
      let params: FormParams;
      if (req.method === 'POST') {
        const type = req.headers['content-type'];
        if (type !== undefined && !type.startsWith('application/x-www-form-urlencoded')) {
          throw invalidRequest(
            `Invalid request: the body must be application/x-www-form-urlencoded, not ${type.split(';')[0]}`,
          );
        }
        params = (req.body ?? {}) as FormParams;
      } else {
        params = qs.parse(query, { depth: 5, arrayLimit: 100 }) as FormParams;
      }
      const header = req.headers['idempotency-key'];
      // Stripe: sending an idempotency key with GET or DELETE has no effect.
      if (req.method === 'POST' && typeof header === 'string') {
        const begun = idempotency.begin(apiKey, header, req.method, path, params);
        if (begun.kind === 'replay') return replay(reply, begun.response, header);
        idemKey = header;
      }
      const decision = await applyFaults(core, req, reply, operation);
      if (decision === 'handled') {
        if (idemKey) idempotency.abandon(apiKey, idemKey);
        return reply;
      }
      if (decision.rule) {
        const fault = renderFault(decision.rule.kind, decision.rule.params);
        if (idemKey && fault.executed) saveAnswer(apiKey, idemKey, fault.error, requestId);
        throw fault.error;
      }
      const id = (req.params as { id?: string }).id;
      let answer: Answer;
      try {
        answer = handler({ params, id, livemode: apiKey.startsWith('sk_live_'), url: path });
      } catch (err) {
        // A request that fails validation saves nothing; a missing object is an executed answer.
        if (idemKey && err instanceof StripeHttpError && err.status !== 400)
          saveAnswer(apiKey, idemKey, err, requestId);
        throw err;
      }
      if (idemKey) {
        idempotency.save(apiKey, idemKey, {
          status: answer.status,
          body: answer.body,
          headers: {},
          requestId,
        });
        void reply.header('idempotency-key', idemKey);
      }
      return reply.code(answer.status).send(answer.body);
    } catch (err) {
      if (apiKey && idemKey) idempotency.abandon(apiKey, idemKey);
      if (err instanceof StripeHttpError) return sendError(reply, err.status, err.error, err.headers);
      throw err;
    }
  };

  const saveAnswer = (apiKey: string, key: string, err: StripeHttpError, requestId: string) =>
    idempotency.save(apiKey, key, {
      status: err.status,
      body: { error: { ...err.error, request_id: requestId } },
      headers: err.headers,
      requestId,
    });

  const replay = (reply: FastifyReply, saved: SavedResponse, key: string) => {
    for (const [h, v] of Object.entries(saved.headers)) void reply.header(h, v);
    return reply
      .code(saved.status)
      .header('idempotent-replayed', 'true')
      .header('original-request', saved.requestId)
      .header('idempotency-key', key)
      .send(saved.body);
  };

  const limitParam = (params: FormParams): number => {
    const raw = params.limit;
    if (raw === undefined) return 10;
    const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= 100)) {
      throw invalidRequest('Invalid integer: limit must be between 1 and 100', {
        code: 'parameter_invalid_integer',
        param: 'limit',
      });
    }
    return n;
  };

  const checkUnknown = (params: FormParams, allowed: string[]) => {
    for (const k of Object.keys(params)) {
      if (!allowed.includes(k))
        throw invalidRequest(`Received unknown parameter: ${k}`, { code: 'parameter_unknown', param: k });
    }
  };

  app.post(
    '/v1/customers',
    api('createCustomer', ({ params, livemode }) => {
      validateCustomerParams(params);
      return { status: 200, body: store.create(params, livemode) };
    }),
  );
  app.get(
    '/v1/customers/search',
    api('searchCustomers', ({ params, url }) => {
      checkUnknown(params, ['query', 'limit', 'page', 'expand']);
      if (typeof params.query !== 'string' || params.query === '') {
        throw invalidRequest('Missing required param: query.', { code: 'parameter_missing', param: 'query' });
      }
      let parsed;
      try {
        parsed = parseSearchQuery(params.query);
      } catch (err) {
        if (err instanceof SearchQueryError) throw invalidRequest(err.message, { param: 'query' });
        throw err;
      }
      const limit = limitParam(params);
      const page = params.page;
      let offset = 0;
      if (page !== undefined) {
        const decoded = typeof page === 'string' ? /^page_(\d+)$/.exec(page) : null;
        if (!decoded) throw invalidRequest(`Invalid page: ${JSON.stringify(page)}`, { param: 'page' });
        offset = Number(decoded[1]);
      }
      const result = store.search(parsed, limit, offset);
      return {
        status: 200,
        body: {
          object: 'search_result',
          url,
          has_more: result.hasMore,
          next_page: result.hasMore ? `page_${offset + limit}` : null,
          data: result.data,
        },
      };
    }),
  );
  app.get(
    '/v1/customers',
    api('listCustomers', ({ params, url }) => {
      checkUnknown(params, ['email', 'limit', 'starting_after', 'ending_before', 'expand']);
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const page = store.list({
        email: str(params.email),
        limit: limitParam(params),
        startingAfter: str(params.starting_after),
        endingBefore: str(params.ending_before),
      });
      return { status: 200, body: { object: 'list', url, has_more: page.hasMore, data: page.data } };
    }),
  );
  app.get(
    '/v1/customers/:id',
    api('retrieveCustomer', ({ id }) => ({ status: 200, body: store.retrieve(id!) })),
  );
  app.post(
    '/v1/customers/:id',
    api('updateCustomer', ({ id, params }) => {
      validateCustomerParams(params);
      return { status: 200, body: store.update(id!, params) };
    }),
  );
  app.delete(
    '/v1/customers/:id',
    api('deleteCustomer', ({ id }) => ({ status: 200, body: store.delete(id!) })),
  );

  app.setNotFoundHandler(async (req, reply) => {
    void reply.header('request-id', stripeId('req'));
    return sendError(reply, 404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}). This simulator implements customers only.`,
    });
  });

  const filterCustomers = (filter: { metadata?: Record<string, string>; email?: string; id?: string } = {}) =>
    store
      .all()
      .filter(
        (c) =>
          (filter.id === undefined || c.id === filter.id) &&
          (filter.email === undefined || c.email === filter.email) &&
          Object.entries(filter.metadata ?? {}).every(([k, v]) => c.metadata[k] === v),
      );

  registerAdminRoutes(core, {
    reset: () => reset(),
    records: (q) => {
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(q)) {
        const m = /^metadata\[(.+)\]$/.exec(k);
        if (m && v !== undefined) metadata[m[1]!] = v;
      }
      return {
        customers: filterCustomers({ id: q.id, email: q.email, metadata }),
        idempotencyKeys: idempotency.list(),
      };
    },
  });

  function reset(): void {
    store.reset();
    idempotency.reset();
    windows.clear();
  }

  return {
    name: 'billing',
    core,
    start: (opts = {}) => listen(core, { port: opts.port ?? BILLING_DEFAULT_PORT, host: opts.host }),
    reset,
    customers: (filter) => filterCustomers(filter),
    customer: (id) => filterCustomers({ id })[0],
    idempotencyKeys: () => idempotency.list(),
  };
}

function rateLimitError(retryAfterSeconds: number): StripeHttpError {
  return new StripeHttpError(
    429,
    {
      type: 'rate_limit_error',
      code: 'rate_limit',
      message:
        'Request rate limit exceeded. Retry after a short wait (see https://stripe.com/docs/rate-limits).',
      doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
    },
    { 'retry-after': String(retryAfterSeconds), 'stripe-should-retry': 'true' },
  );
}

/**
 * Renders a fault rule as Stripe would answer. `executed` marks the answers Stripe produces after the
 * endpoint began executing (a card decline, a 500 during execution): those are saved under an
 * idempotency key and replayed; throttling and unavailability happen before and save nothing.
 */
function renderFault(
  kind: string,
  params: Record<string, unknown> | undefined,
): { error: StripeHttpError; executed: boolean } {
  const v = params?.retryAfterSeconds;
  const after = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  switch (kind) {
    case 'rate-limit':
      return { error: rateLimitError(after ?? 1), executed: false };
    case 'lock-timeout':
      return {
        error: new StripeHttpError(
          429,
          {
            type: 'invalid_request_error',
            code: 'lock_timeout',
            message:
              'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. Please retry your request.',
          },
          { 'stripe-should-retry': 'true' },
        ),
        executed: false,
      };
    case 'service-unavailable':
      return {
        error: new StripeHttpError(
          503,
          {
            type: 'api_error',
            message: 'The service is temporarily unavailable. Please retry your request.',
          },
          after === undefined ? {} : { 'retry-after': String(after) },
        ),
        executed: false,
      };
    case 'card-declined':
      return {
        error: new StripeHttpError(402, {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'generic_decline',
          message: 'Your card was declined.',
          param: 'source',
        }),
        executed: true,
      };
    case 'api-error':
    default: {
      // A 500 while executing is saved under the idempotency key, so Stripe tells clients that
      // retrying with the same key would only replay it (`Stripe-Should-Retry: false`).
      const during = params?.duringExecution === true;
      return {
        error: new StripeHttpError(
          500,
          { type: 'api_error', message: 'An unknown error occurred while processing the request.' },
          during ? { 'stripe-should-retry': 'false' } : {},
        ),
        executed: during,
      };
    }
  }
}
