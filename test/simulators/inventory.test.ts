import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { createInventorySimulator, DEV_INVENTORY_API_KEY } from '../../src/simulators/inventory';
import type { ChangePage, InventorySimulator, StockChange, StockLevel } from '../../src/simulators/inventory';

interface StockList {
  items: StockLevel[];
  missing: string[];
}

const EVENTS_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let sim: InventorySimulator;
let running: RunningSimulator;
let api: AxiosInstance;
let admin: AxiosInstance;
let receiver: Server;
let receiverUrl: string;
let received: Received[] = [];
let receiverStatuses: number[] = [];
let onReceived: (() => void) | undefined;

/** Resolves once the receiver has seen `n` requests (event-driven, no polling). */
function receivedCount(n: number, timeoutMs = 5_000): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (received.length >= n) {
        clearTimeout(timer);
        onReceived = undefined;
        resolve(received.slice());
        return true;
      }
      return false;
    };
    const timer = setTimeout(
      () => reject(new Error(`receiver saw ${received.length} of ${n} requests`)),
      timeoutMs,
    );
    if (!check()) onReceived = () => void check();
  });
}

beforeAll(async () => {
  // A plain node:http receiver, so the check of the event signatures is independent of both simulators.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = receiverStatuses.shift() ?? 204;
      res.end();
      onReceived?.();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/inventory-events`;

  sim = createInventorySimulator();
  running = await sim.start({ port: 0 });
  api = axios.create({
    baseURL: running.url,
    headers: { 'x-api-key': DEV_INVENTORY_API_KEY },
    validateStatus: () => true,
    timeout: 5_000,
  });
  admin = axios.create({ baseURL: running.url, validateStatus: () => true, timeout: 5_000 });
});

afterAll(async () => {
  await running?.stop();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

beforeEach(async () => {
  expect((await admin.post('/__admin/reset', {})).status).toBe(200);
  expect((await admin.put('/__admin/events', {})).data).toEqual({ configured: false });
  received = [];
  receiverStatuses = [];
});

describe('inventory: API key authentication', () => {
  it('answers 401 {error, message} without a key and with a wrong key', async () => {
    const missing = await admin.get('/v1/stock/MAT-1000');
    expect(missing.status).toBe(401);
    expect(missing.data).toEqual({ error: 'unauthorized', message: 'missing x-api-key header' });
    const wrong = await admin.get('/v1/stock/MAT-1000', { headers: { 'x-api-key': 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: 'unauthorized', message: 'invalid API key' });
    const put = await admin.put('/v1/stock/MAT-1000', { quantity: 1 });
    expect(put.status).toBe(401);
    expect(sim.stock('MAT-1000')!.quantity).toBe(120);
  });

  it('accepts a key configured through the factory options', async () => {
    const other = createInventorySimulator({ apiKeys: ['k-123'] });
    const r = await other.start({ port: 0 });
    try {
      expect(
        (await axios.get(`${r.url}/v1/stock/MAT-1000`, { headers: { 'x-api-key': 'k-123' } })).status,
      ).toBe(200);
      const dev = await axios.get(`${r.url}/v1/stock/MAT-1000`, {
        headers: { 'x-api-key': DEV_INVENTORY_API_KEY },
        validateStatus: () => true,
      });
      expect(dev.status).toBe(401);
    } finally {
      await r.stop();
    }
  });
});

describe('inventory: stock read and write', () => {
  it('serves the seeded SAP materials MAT-1000/2000/3000 in warehouse 1000', async () => {
    const res = await api.get('/v1/stock/MAT-1000');
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.data).toEqual({
      sku: 'MAT-1000',
      warehouse: '1000',
      quantity: 120,
      reserved: 20,
      available: 100,
      version: 1,
      updatedAt: expect.any(String),
    });
    const list = await api.get<StockList>('/v1/stock', { params: { skus: 'MAT-2000,MAT-3000,MAT-9999' } });
    expect(list.status).toBe(200);
    expect(list.data.items.map((s) => [s.sku, s.quantity])).toEqual([
      ['MAT-2000', 45],
      ['MAT-3000', 0],
    ]);
    expect(list.data.missing).toEqual(['MAT-9999']);
    const all = await api.get<StockList>('/v1/stock');
    expect(all.data.items.map((s) => s.sku)).toEqual(['MAT-1000', 'MAT-2000', 'MAT-3000']);
  });

  it('answers 404 for an unknown sku', async () => {
    const res = await api.get('/v1/stock/NOPE-1');
    expect(res.status).toBe(404);
    expect(res.data).toEqual({ error: 'not_found', message: 'unknown sku "NOPE-1"' });
  });

  it('PUT updates quantity (200, version+1, ETag) and creates an unknown sku (201)', async () => {
    const upd = await api.put('/v1/stock/MAT-2000', { quantity: 50 });
    expect(upd.status).toBe(200);
    expect(upd.headers.etag).toBe('"2"');
    expect(upd.data).toMatchObject({ sku: 'MAT-2000', quantity: 50, reserved: 5, available: 45, version: 2 });
    expect((await api.get('/v1/stock/MAT-2000')).data.quantity).toBe(50);

    const created = await api.put('/v1/stock/MAT-4000', { quantity: 7, warehouse: '2000' });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      sku: 'MAT-4000',
      warehouse: '2000',
      quantity: 7,
      available: 7,
      version: 1,
    });
  });

  it('PUT with the same values is not a change: version unchanged, no feed entry', async () => {
    const before = sim.changes().changes.length;
    const res = await api.put('/v1/stock/MAT-1000', { quantity: 120 });
    expect(res.status).toBe(200);
    expect(res.data.version).toBe(1);
    expect(sim.changes().changes).toHaveLength(before);
  });

  it('PUT answers 400 with every reason for a bad body', async () => {
    const res = await api.put('/v1/stock/MAT-1000', { quantity: -1.5, warehouse: 42, colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({
      error: 'bad_request',
      message: 'invalid stock update',
      reasons: [
        'quantity must be an integer between 0 and 1000000000',
        'warehouse must be 1-10 characters of [A-Za-z0-9_-]',
        'unknown field(s): colour',
      ],
    });
    const missing = await api.put('/v1/stock/MAT-1000', {});
    expect(missing.status).toBe(400);
    expect(missing.data.reasons).toEqual(['quantity must be an integer between 0 and 1000000000']);
    expect(sim.stock('MAT-1000')!.version).toBe(1);
  });

  it('If-Match: the current version succeeds, a stale one answers 412 with the current version', async () => {
    const ok = await api.put('/v1/stock/MAT-1000', { quantity: 110 }, { headers: { 'if-match': '"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.data.version).toBe(2);

    const stale = await api.put('/v1/stock/MAT-1000', { quantity: 90 }, { headers: { 'if-match': '1' } });
    expect(stale.status).toBe(412);
    expect(stale.data).toEqual({
      error: 'precondition_failed',
      message: 'If-Match 1 does not match current version 2',
      currentVersion: 2,
    });
    expect(sim.stock('MAT-1000')!.quantity).toBe(110);

    const unknown = await api.put('/v1/stock/MAT-7777', { quantity: 1 }, { headers: { 'if-match': '*' } });
    expect(unknown.status).toBe(412);
    expect(unknown.data.currentVersion).toBeNull();
  });
});

describe('inventory: change feed', () => {
  it('starts with the seed, then pages every change in order by opaque cursor', async () => {
    const first = await api.get<ChangePage>('/v1/changes');
    expect(first.status).toBe(200);
    expect(first.data.changes.map((c) => [c.sku, c.source, c.previousQuantity])).toEqual([
      ['MAT-1000', 'seed', null],
      ['MAT-2000', 'seed', null],
      ['MAT-3000', 'seed', null],
    ]);
    expect(first.data.hasMore).toBe(false);
    const watermark: string = first.data.nextCursor;

    await api.put('/v1/stock/MAT-1000', { quantity: 100 });
    await api.put('/v1/stock/MAT-2000', { quantity: 40 });
    expect((await admin.post('/__admin/stock/MAT-3000', { quantity: 12 })).status).toBe(200);
    await api.put('/v1/stock/MAT-1000', { quantity: 95 });

    const seen: StockChange[] = [];
    let cursor = watermark;
    const pages: boolean[] = [];
    for (;;) {
      const page = await api.get('/v1/changes', { params: { since: cursor, limit: 2 } });
      expect(page.status).toBe(200);
      seen.push(...page.data.changes);
      pages.push(page.data.hasMore);
      cursor = page.data.nextCursor;
      if (!page.data.hasMore) break;
    }
    expect(pages).toEqual([true, false]);
    expect(
      seen.map((c) => [c.sku, c.previousQuantity, c.quantity, c.version, c.source, c.warehouse]),
    ).toEqual([
      ['MAT-1000', 120, 100, 2, 'api', '1000'],
      ['MAT-2000', 45, 40, 2, 'api', '1000'],
      ['MAT-3000', 0, 12, 2, 'warehouse', '1000'],
      ['MAT-1000', 100, 95, 3, 'api', '1000'],
    ]);
    const cursors = seen.map((c) => c.cursor);
    expect([...cursors].sort()).toEqual(cursors);
    expect(new Set(cursors).size).toBe(4);

    // Polling again from the last cursor yields nothing and hands back the same cursor.
    const empty = await api.get('/v1/changes', { params: { since: cursor } });
    expect(empty.data).toEqual({ changes: [], nextCursor: cursor, hasMore: false });
  });

  it('keeps cursors monotonic across a reset (a persisted watermark never sees reused cursors)', async () => {
    const before = (await api.get('/v1/changes')).data.nextCursor as string;
    expect((await admin.post('/__admin/reset', {})).status).toBe(200);
    const after = await api.get<ChangePage>('/v1/changes', { params: { since: before } });
    expect(after.data.changes.map((c) => c.sku)).toEqual(['MAT-1000', 'MAT-2000', 'MAT-3000']);
    expect(after.data.changes[0]!.cursor > before).toBe(true);
  });

  it('answers 400 for a malformed cursor or limit', async () => {
    const bad = await api.get('/v1/changes', { params: { since: 'not-a-cursor' } });
    expect(bad.status).toBe(400);
    expect(bad.data).toEqual({
      error: 'bad_request',
      message: 'since "not-a-cursor" is not a cursor this service issued',
      reasons: ['since "not-a-cursor" is not a cursor this service issued'],
    });
    const limit = await api.get('/v1/changes', { params: { limit: 0 } });
    expect(limit.status).toBe(400);
    expect(limit.data.reasons).toEqual(['limit must be an integer between 1 and 1000']);
  });
});

describe('inventory: inventory.stock_changed events', () => {
  it('signs each change per Standard Webhooks; standardwebhooks verifies it and the payload is exact', async () => {
    expect((await admin.put('/__admin/events', { url: receiverUrl, secret: EVENTS_SECRET })).status).toBe(
      200,
    );

    await api.put('/v1/stock/MAT-1000', { quantity: 99 });
    const warehouse = await admin.post('/__admin/stock/MAT-2000', { quantity: 44 });
    expect(warehouse.status).toBe(200);
    expect(warehouse.data.change).toMatchObject({ source: 'warehouse', previousQuantity: 45, quantity: 44 });

    const got = await receivedCount(2);
    const wh = new Webhook(EVENTS_SECRET);
    const events = got.map((r) => {
      expect(r.headers['content-type']).toBe('application/json');
      return wh.verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        timestamp: string;
        data: Record<string, unknown>;
      };
    });
    const bySku = new Map(events.map((e) => [e.data.sku, e]));
    expect(bySku.get('MAT-1000')).toEqual({
      type: 'inventory.stock_changed',
      timestamp: expect.any(String),
      data: {
        sku: 'MAT-1000',
        warehouse: '1000',
        quantity: 99,
        previousQuantity: 120,
        version: 2,
        changedAt: expect.any(String),
        source: 'api',
      },
    });
    expect(bySku.get('MAT-2000')!.data).toMatchObject({
      quantity: 44,
      previousQuantity: 45,
      source: 'warehouse',
    });
    // A wrong secret must not verify: the signature really depends on the configured key.
    const wrong = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
    expect(() => wrong.verify(got[0]!.body, got[0]!.headers as Record<string, string>)).toThrow(
      'No matching signature found',
    );
  });

  it('retries an event the receiver answers 503 with the same webhook-id', async () => {
    receiverStatuses = [503];
    sim.configureEvents({ url: receiverUrl, secret: EVENTS_SECRET });
    sim.setStock('MAT-3000', 5);
    const got = await receivedCount(2);
    expect(got[0]!.headers['webhook-id']).toBe(got[1]!.headers['webhook-id']);
    await sim.events.drain();
    expect(sim.deliveries()).toEqual([
      expect.objectContaining({ type: 'inventory.stock_changed', status: 204, attempts: 2 }),
    ]);
  });

  it('sends nothing when no target is configured', async () => {
    await api.put('/v1/stock/MAT-1000', { quantity: 1 });
    await sim.events.drain();
    expect(sim.deliveries()).toEqual([]);
    expect(received).toEqual([]);
  });
});

describe('inventory: faults', () => {
  const addRule = async (rule: Record<string, unknown>) => {
    expect((await admin.post('/__admin/faults/rules', rule)).status).toBe(201);
  };

  it.each([
    ['server-error', 500, undefined, undefined, 'internal_error'],
    ['service-unavailable', 503, undefined, undefined, 'service_unavailable'],
    ['service-unavailable', 503, { retryAfterSeconds: 20 }, '20', 'service_unavailable'],
    ['rate-limit', 429, undefined, '1', 'rate_limited'],
    ['rate-limit', 429, { retryAfterSeconds: 4 }, '4', 'rate_limited'],
  ] as const)(
    '%s answers %i (params %j, Retry-After %s), then the next call succeeds',
    async (kind, status, params, after, error) => {
      await addRule({ kind, remaining: 1, match: { operation: 'getStock' }, ...(params ? { params } : {}) });
      const res = await api.get('/v1/stock/MAT-1000');
      expect(res.status).toBe(status);
      expect(res.headers['retry-after']).toBe(after);
      expect(res.data.error).toBe(error);
      expect((await api.get('/v1/stock/MAT-1000')).status).toBe(200);
    },
  );

  it('a fault on putStock leaves the stock unchanged', async () => {
    await addRule({ kind: 'server-error', remaining: 1, match: { operation: 'putStock' } });
    expect((await api.put('/v1/stock/MAT-1000', { quantity: 3 })).status).toBe(500);
    expect(sim.stock('MAT-1000')).toMatchObject({ quantity: 120, version: 1 });
  });

  it('timeout: an axios client with a short timeout fails with ECONNABORTED', async () => {
    await addRule({ kind: 'timeout', remaining: 1, params: { delayMs: 600 } });
    const err = await api.get('/v1/stock/MAT-1000', { timeout: 150 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(axios.isAxiosError(err) && err.code).toBe('ECONNABORTED');
    expect((await api.get('/v1/stock/MAT-1000')).status).toBe(200);
  });

  it('outage: the connection is dropped (ECONNRESET) until lifted', async () => {
    expect((await admin.put('/__admin/faults/outage', { on: true })).status).toBe(200);
    const err = await api.get('/v1/changes').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(axios.isAxiosError(err) && err.code).toBe('ECONNRESET');
    expect((await admin.put('/__admin/faults/outage', { on: false })).status).toBe(200);
    expect((await api.get('/v1/changes')).status).toBe(200);
  });

  it('admin records expose stock, changes and event deliveries, filtered by sku', async () => {
    await api.put('/v1/stock/MAT-2000', { quantity: 1 });
    const res = await admin.get<{ stock: StockLevel[]; changes: StockChange[]; events: unknown[] }>(
      '/__admin/records',
      {
        params: { sku: 'MAT-2000' },
      },
    );
    expect(res.status).toBe(200);
    expect(res.data.stock).toEqual([expect.objectContaining({ sku: 'MAT-2000', quantity: 1, version: 2 })]);
    expect(res.data.changes.map((c) => c.source)).toEqual(['seed', 'api']);
    expect(res.data.events).toEqual([]);
  });
});
