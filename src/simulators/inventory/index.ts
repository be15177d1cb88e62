import type { FastifyReply, FastifyRequest } from 'fastify';
import { OutboundEvents } from '../common/outbound';
import type { OutboundDelivery, OutboundTarget } from '../common/outbound';
import { applyFaults, createSimulatorApp, listen, registerAdminRoutes } from '../common/server';
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';

export const INVENTORY_DEFAULT_PORT = 4040;
export const DEV_INVENTORY_API_KEY = 'dev-inventory-key';
export const DEFAULT_WAREHOUSE = '1000';
export const STOCK_CHANGED_EVENT = 'inventory.stock_changed';

export const INVENTORY_FAULT_KINDS = [
  'server-error',
  'service-unavailable',
  'rate-limit',
  'timeout',
] as const;

export type ChangeSource = 'seed' | 'api' | 'warehouse';

export interface StockLevel {
  sku: string;
  warehouse: string;
  quantity: number;
  reserved: number;
  available: number;
  version: number;
  updatedAt: string;
}

export interface StockChange {
  cursor: string;
  sku: string;
  warehouse: string;
  quantity: number;
  /** `null` when the change created the SKU. */
  previousQuantity: number | null;
  version: number;
  changedAt: string;
  source: ChangeSource;
}

export interface StockSeed {
  sku: string;
  quantity: number;
  reserved?: number;
  warehouse?: string;
}

export interface InventoryOptions {
  /** Accepted `x-api-key` values. */
  apiKeys?: readonly string[];
  seed?: readonly StockSeed[];
  /** Where `inventory.stock_changed` events go (Standard Webhooks signed); none by default. */
  events?: OutboundTarget;
  /** Retries of the outbound sender per event. */
  eventAttempts?: number;
}

export interface ChangePage {
  changes: StockChange[];
  nextCursor: string;
  hasMore: boolean;
}

export interface SetStockOptions {
  warehouse?: string;
  reserved?: number;
  source?: ChangeSource;
}

export interface InventorySimulator {
  readonly name: 'inventory';
  readonly core: SimulatorCore;
  readonly events: OutboundEvents;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  /** Restores the seed stock and forgets events (cursors stay monotonic across resets). */
  reset(): void;
  stock(sku: string): StockLevel | undefined;
  allStock(): StockLevel[];
  /** Changes after `since` (exclusive); the same paging as `GET /v1/changes`. */
  changes(since?: string, limit?: number): ChangePage;
  /** Changes stock as if done in the warehouse (default source `warehouse`); emits the event. */
  setStock(
    sku: string,
    quantity: number,
    opts?: SetStockOptions,
  ): { level: StockLevel; change?: StockChange };
  configureEvents(target: OutboundTarget | undefined): void;
  /** Outbound event deliveries so far (status, attempts, body). */
  deliveries(): OutboundDelivery[];
}

export const DEFAULT_STOCK_SEED: readonly StockSeed[] = [
  { sku: 'MAT-1000', quantity: 120, reserved: 20 },
  { sku: 'MAT-2000', quantity: 45, reserved: 5 },
  { sku: 'MAT-3000', quantity: 0, reserved: 0 },
];

const CURSOR_PREFIX = 'c';
const CURSOR_DIGITS = 12;
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** Fixed-width hex keeps cursors both numerically and lexically monotonic; clients must not parse them. */
function encodeCursor(seq: number): string {
  return CURSOR_PREFIX + seq.toString(16).padStart(CURSOR_DIGITS, '0');
}

function decodeCursor(cursor: string): number | undefined {
  if (!new RegExp(`^${CURSOR_PREFIX}[0-9a-f]{${CURSOR_DIGITS}}$`).test(cursor)) return undefined;
  return parseInt(cursor.slice(CURSOR_PREFIX.length), 16);
}

interface StoredStock {
  sku: string;
  warehouse: string;
  quantity: number;
  reserved: number;
  version: number;
  updatedAt: string;
}

function view(s: StoredStock): StockLevel {
  return {
    sku: s.sku,
    warehouse: s.warehouse,
    quantity: s.quantity,
    reserved: s.reserved,
    // Over-reservation happens in real warehouses (a count correction); available never goes negative.
    available: Math.max(0, s.quantity - s.reserved),
    version: s.version,
    updatedAt: s.updatedAt,
  };
}

class InputError extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join('; '));
  }
}

function checkQuantity(value: unknown, field: string, reasons: string[]): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000_000) {
    reasons.push(`${field} must be an integer between 0 and 1000000000`);
  }
}

function checkWarehouse(value: unknown, reasons: string[]): void {
  if (value !== undefined && (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,10}$/.test(value))) {
    reasons.push('warehouse must be 1-10 characters of [A-Za-z0-9_-]');
  }
}

const SKU_PATTERN = /^[A-Za-z0-9._-]{1,40}$/;

/**
 * The in-house inventory service: JSON REST with an API key, optimistic concurrency by version,
 * a cursor-paged change feed and signed `inventory.stock_changed` webhooks.
 */
export function createInventorySimulator(options: InventoryOptions = {}): InventorySimulator {
  const core = createSimulatorApp('inventory', INVENTORY_FAULT_KINDS);
  const apiKeys = new Set(options.apiKeys ?? [DEV_INVENTORY_API_KEY]);
  const seed = options.seed ?? DEFAULT_STOCK_SEED;
  const events = new OutboundEvents(options.events, options.eventAttempts);

  let stock = new Map<string, StoredStock>();
  let feed: { seq: number; change: StockChange }[] = [];
  // Never restarts, not even on reset: a cursor a client persisted must not silently point at new data.
  let seq = 0;

  const apply = (
    sku: string,
    quantity: number,
    opts: SetStockOptions & { source: ChangeSource },
  ): { level: StockLevel; change?: StockChange; created: boolean } => {
    const existing = stock.get(sku);
    const warehouse = opts.warehouse ?? existing?.warehouse ?? DEFAULT_WAREHOUSE;
    const reserved = opts.reserved ?? existing?.reserved ?? 0;
    if (
      existing &&
      existing.quantity === quantity &&
      existing.warehouse === warehouse &&
      existing.reserved === reserved
    ) {
      // A write that changes nothing is not a change: no version bump, no feed entry, no event.
      return { level: view(existing), created: false };
    }
    const changedAt = new Date().toISOString();
    const next: StoredStock = {
      sku,
      warehouse,
      quantity,
      reserved,
      version: (existing?.version ?? 0) + 1,
      updatedAt: changedAt,
    };
    stock.set(sku, next);
    const s = ++seq;
    const change: StockChange = {
      cursor: encodeCursor(s),
      sku,
      warehouse,
      quantity,
      previousQuantity: existing ? existing.quantity : null,
      version: next.version,
      changedAt,
      source: opts.source,
    };
    feed.push({ seq: s, change });
    if (opts.source !== 'seed') {
      const { cursor: _cursor, ...data } = change;
      events.send(STOCK_CHANGED_EVENT, data);
    }
    return { level: view(next), change: { ...change }, created: !existing };
  };

  const loadSeed = () => {
    stock = new Map();
    feed = [];
    for (const s of seed)
      apply(s.sku, s.quantity, { warehouse: s.warehouse, reserved: s.reserved, source: 'seed' });
  };
  loadSeed();

  const pageChanges = (since: string | undefined, limit = DEFAULT_PAGE): ChangePage => {
    const after = since === undefined ? 0 : decodeCursor(since);
    if (after === undefined) throw new InputError([`since "${since}" is not a cursor this service issued`]);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new InputError([`limit must be an integer between 1 and ${MAX_PAGE}`]);
    }
    const remaining = feed.filter((e) => e.seq > after);
    const page = remaining.slice(0, limit).map((e) => ({ ...e.change }));
    const last = page[page.length - 1];
    return {
      changes: page,
      // With nothing new, hand back where the client already is, so it can poll with it again.
      nextCursor: last ? last.cursor : encodeCursor(after),
      hasMore: remaining.length > page.length,
    };
  };

  /** Shared prologue of every API route: faults first (a gateway fails before auth), then the key. */
  const guard = async (req: FastifyRequest, reply: FastifyReply, operation: string): Promise<boolean> => {
    const decision = await applyFaults(core, req, reply, operation);
    if (decision === 'handled') return false;
    if (req.simFault === 'timeout') {
      // The client has given up; answer something plausible that nobody reads.
      await reply.code(504).send({ error: 'gateway_timeout', message: 'upstream timed out' });
      return false;
    }
    if (decision.rule) {
      await renderFault(reply, decision.rule.kind, decision.rule.params);
      return false;
    }
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !apiKeys.has(key)) {
      await reply.code(401).send({
        error: 'unauthorized',
        message: key === undefined ? 'missing x-api-key header' : 'invalid API key',
      });
      return false;
    }
    return true;
  };

  const { app } = core;

  app.get('/v1/stock/:sku', async (req, reply) => {
    if (!(await guard(req, reply, 'getStock'))) return reply;
    const sku = (req.params as { sku: string }).sku;
    const s = stock.get(sku);
    if (!s) return reply.code(404).send({ error: 'not_found', message: `unknown sku "${sku}"` });
    return reply.header('etag', `"${s.version}"`).send(view(s));
  });

  app.get('/v1/stock', async (req, reply) => {
    if (!(await guard(req, reply, 'listStock'))) return reply;
    const skusParam = (req.query as { skus?: string }).skus;
    if (skusParam === undefined) return { items: [...stock.values()].map(view), missing: [] };
    const skus = [...new Set(skusParam.split(',').map((s) => s.trim()))].filter((s) => s !== '');
    if (skus.length === 0 || skus.length > 200) {
      return reply.code(400).send({
        error: 'bad_request',
        message: 'skus must list 1-200 comma-separated SKUs',
        reasons: ['skus'],
      });
    }
    const items: StockLevel[] = [];
    const missing: string[] = [];
    for (const sku of skus) {
      const s = stock.get(sku);
      if (s) items.push(view(s));
      else missing.push(sku);
    }
    return { items, missing };
  });

  app.put('/v1/stock/:sku', async (req, reply) => {
    if (!(await guard(req, reply, 'putStock'))) return reply;
    const sku = (req.params as { sku: string }).sku;
    const body = req.body as { quantity?: unknown; warehouse?: unknown } | undefined | null;
    const reasons: string[] = [];
    if (!SKU_PATTERN.test(sku)) reasons.push('sku must be 1-40 characters of [A-Za-z0-9._-]');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      reasons.push('body must be a JSON object {"quantity": <integer>, "warehouse"?: <string>}');
    } else {
      checkQuantity(body.quantity, 'quantity', reasons);
      checkWarehouse(body.warehouse, reasons);
      const unknown = Object.keys(body).filter((k) => k !== 'quantity' && k !== 'warehouse');
      if (unknown.length > 0) reasons.push(`unknown field(s): ${unknown.join(', ')}`);
    }
    if (reasons.length > 0) {
      return reply.code(400).send({ error: 'bad_request', message: 'invalid stock update', reasons });
    }
    const ifMatch = req.headers['if-match'];
    if (typeof ifMatch === 'string') {
      const current = stock.get(sku);
      if (!ifMatchSatisfied(ifMatch, current?.version)) {
        return reply.code(412).send({
          error: 'precondition_failed',
          message: current
            ? `If-Match ${ifMatch} does not match current version ${current.version}`
            : `If-Match ${ifMatch} given for unknown sku "${sku}"`,
          currentVersion: current?.version ?? null,
        });
      }
    }
    const { quantity, warehouse } = body as { quantity: number; warehouse?: string };
    const result = apply(sku, quantity, { warehouse, source: 'api' });
    return reply
      .code(result.created ? 201 : 200)
      .header('etag', `"${result.level.version}"`)
      .send(result.level);
  });

  app.get('/v1/changes', async (req, reply) => {
    if (!(await guard(req, reply, 'listChanges'))) return reply;
    const q = req.query as { since?: string; limit?: string };
    const limit = q.limit === undefined ? DEFAULT_PAGE : /^\d+$/.test(q.limit) ? Number(q.limit) : NaN;
    try {
      return pageChanges(q.since === '' ? undefined : q.since, limit);
    } catch (err) {
      if (err instanceof InputError) {
        return reply.code(400).send({ error: 'bad_request', message: err.message, reasons: err.reasons });
      }
      throw err;
    }
  });

  registerAdminRoutes(core, {
    reset: () => reset(),
    records: (q) => {
      const items = [...stock.values()].map(view).filter((s) => q.sku === undefined || s.sku === q.sku);
      const changes = feed.map((e) => e.change).filter((c) => q.sku === undefined || c.sku === q.sku);
      return { stock: items, changes, events: events.list() };
    },
  });

  app.put('/__admin/events', async (req, reply) => {
    const body = req.body as Partial<OutboundTarget> | null | undefined;
    if (!body || (body.url === undefined && body.secret === undefined)) {
      events.configure(undefined);
      return { configured: false };
    }
    if (typeof body.url !== 'string' || typeof body.secret !== 'string' || !/^https?:\/\//.test(body.url)) {
      return reply
        .code(400)
        .send({ error: 'body must be {"url": "http(s)://...", "secret": "whsec_..."} or {}' });
    }
    events.configure({ url: body.url, secret: body.secret });
    return { configured: true, url: body.url };
  });
  app.get('/__admin/events', (_req, reply) =>
    reply.send({ configured: events.isConfigured(), deliveries: events.list() }),
  );

  app.post('/__admin/stock/:sku', async (req, reply) => {
    const sku = (req.params as { sku: string }).sku;
    const body = (req.body ?? {}) as { quantity?: unknown; warehouse?: unknown; reserved?: unknown };
    const reasons: string[] = [];
    if (!SKU_PATTERN.test(sku)) reasons.push('sku must be 1-40 characters of [A-Za-z0-9._-]');
    checkQuantity(body.quantity, 'quantity', reasons);
    checkWarehouse(body.warehouse, reasons);
    if (body.reserved !== undefined) checkQuantity(body.reserved, 'reserved', reasons);
    if (reasons.length > 0) return reply.code(400).send({ error: 'bad_request', reasons });
    const result = apply(sku, body.quantity as number, {
      warehouse: body.warehouse as string | undefined,
      reserved: body.reserved as number | undefined,
      source: 'warehouse',
    });
    return { stock: result.level, change: result.change ?? null };
  });

  function reset(): void {
    events.clear();
    loadSeed();
  }

  return {
    name: 'inventory',
    core,
    events,
    start: (opts = {}) => listen(core, { port: opts.port ?? INVENTORY_DEFAULT_PORT, host: opts.host }),
    reset,
    stock: (sku) => {
      const s = stock.get(sku);
      return s ? view(s) : undefined;
    },
    allStock: () => [...stock.values()].map(view),
    changes: (since, limit) => pageChanges(since, limit),
    setStock: (sku, quantity, opts = {}) => {
      const reasons: string[] = [];
      checkQuantity(quantity, 'quantity', reasons);
      if (opts.reserved !== undefined) checkQuantity(opts.reserved, 'reserved', reasons);
      checkWarehouse(opts.warehouse, reasons);
      if (reasons.length > 0) throw new Error(`inventory.setStock: ${reasons.join('; ')}`);
      const { level, change } = apply(sku, quantity, { ...opts, source: opts.source ?? 'warehouse' });
      return { level, change };
    },
    configureEvents: (target) => events.configure(target),
    deliveries: () => events.list(),
  };
}

/** `If-Match: 3`, `"3"`, `W/"3"`, a list of those, or `*` (any existing record). */
function ifMatchSatisfied(header: string, version: number | undefined): boolean {
  if (version === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') === String(version));
}

async function renderFault(
  reply: FastifyReply,
  kind: string,
  params: Record<string, unknown> | undefined,
): Promise<void> {
  const v = params?.retryAfterSeconds;
  const after = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  switch (kind) {
    case 'rate-limit':
      await reply
        .code(429)
        .header('retry-after', String(after ?? 1))
        .send({ error: 'rate_limited', message: 'API rate limit exceeded' });
      return;
    case 'service-unavailable':
      if (after !== undefined) void reply.header('retry-after', String(after));
      await reply
        .code(503)
        .send({ error: 'service_unavailable', message: 'inventory service is unavailable' });
      return;
    case 'server-error':
    default:
      await reply.code(500).send({ error: 'internal_error', message: 'unexpected error' });
  }
}
