import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { ChangeEvent } from '../../src/simulators/salesforce';
import type { RunningSimulator } from '../../src/simulators/common/server';

interface ClientError extends Error {
  errorCode?: string;
  code?: string;
  cause?: { code?: string };
}

const sim = createSalesforceSimulator();
let running: RunningSimulator;
let url: string;

beforeAll(async () => {
  running = await sim.start({ port: 0 });
  url = running.url;
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

async function login(callOptions?: Record<string, string>): Promise<Connection> {
  const conn = new jsforce.Connection({
    oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: url },
    loginUrl: url,
    version: '62.0',
    ...(callOptions ? { callOptions } : {}),
  });
  await conn.login('integration@example.com', 'dev-password');
  return conn;
}

async function failure(p: PromiseLike<unknown>): Promise<ClientError> {
  return Promise.resolve(p).then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err as ClientError,
  );
}

describe('fault kinds, rendered the Salesforce way', () => {
  it('server-unavailable: 503 SERVER_UNAVAILABLE on a POST (jsforce does not retry POST)', async () => {
    const conn = await login();
    sim.core.faults.failNext('server-unavailable', 1, { operation: 'create' });
    const err = await failure(conn.sobject('Account').create({ Name: 'X' }));
    expect(err.errorCode).toBe('SERVER_UNAVAILABLE');
    expect(sim.core.requests.list({ operation: 'create' }).map((r) => [r.status, r.fault])).toEqual([
      [503, 'server-unavailable'],
    ]);
    expect(sim.records('Account')).toEqual([]);
  });

  it('server-unavailable on a GET: jsforce retries and the second attempt succeeds', async () => {
    const [id] = sim.seed('Account', { Name: 'Retry me' });
    const conn = await login();
    sim.core.faults.failNext('server-unavailable', 1, { operation: 'retrieve' });
    const rec = (await conn.sobject('Account').retrieve(id!)) as Record<string, unknown>;
    expect(rec.Name).toBe('Retry me');
    expect(sim.core.requests.list({ operation: 'retrieve' }).map((r) => r.status)).toEqual([503, 200]);
  });

  it('unable-to-lock-row: 400 UNABLE_TO_LOCK_ROW naming the record, only for the matched path', async () => {
    const [acc] = sim.seed('Account', { Name: 'A' });
    const [opp] = sim.seed('Opportunity', { Name: 'O', StageName: 'Prospecting', CloseDate: '2025-01-01' });
    const conn = await login();
    // Added over the admin HTTP surface to prove it accepts the same rules.
    const res = await fetch(`${url}/__admin/faults/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'unable-to-lock-row',
        remaining: 1,
        match: { path: '/sobjects/Opportunity/' },
      }),
    });
    expect(res.status).toBe(201);
    await conn.sobject('Account').update({ Id: acc!, Phone: '1' });
    const err = await failure(conn.sobject('Opportunity').update({ Id: opp!, Amount: 10 }));
    expect(err.errorCode).toBe('UNABLE_TO_LOCK_ROW');
    expect(err.message).toBe(`unable to obtain exclusive access to this record or 1 records: ${opp}`);
    await conn.sobject('Opportunity').update({ Id: opp!, Amount: 10 });
    expect(sim.record('Opportunity', opp!)?.Amount).toBe(10);
  });

  it('request-limit-exceeded: 403 REQUEST_LIMIT_EXCEEDED on a query', async () => {
    const conn = await login();
    sim.core.faults.failNext('request-limit-exceeded', 1, { operation: 'query' });
    const err = await failure(conn.query('SELECT Id FROM Account'));
    expect(err.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(sim.core.requests.list({ operation: 'query' }).map((r) => r.status)).toEqual([403]);
  });

  it('session-expired: one 401, jsforce logs in again and resends; the record is created once', async () => {
    const conn = await login();
    const before = sim.tokensIssued().length;
    sim.core.faults.failNext('session-expired', 1, { operation: 'create' });
    const res = await conn.sobject('Account').create({ Name: 'Once' });
    expect(res.success).toBe(true);
    expect(sim.tokensIssued().length).toBe(before + 1);
    expect(sim.core.requests.list({ operation: 'create' }).map((r) => r.status)).toEqual([401, 201]);
    expect(sim.records('Account').map((r) => r.Name)).toEqual(['Once']);
  });

  it('server-error: 500 UNKNOWN_EXCEPTION', async () => {
    const conn = await login();
    sim.core.faults.failNext('server-error', 1, { operation: 'upsert' });
    const err = await failure(
      conn.sobject('Account').upsert({ Name: 'X', Integration_Id__c: 'E1' }, 'Integration_Id__c'),
    );
    expect(err.errorCode).toBe('UNKNOWN_EXCEPTION');
    expect(err.message).toMatch(/^An unexpected error occurred\. Please include this ErrorId/);
  });

  it('token faults are rendered as OAuth errors', async () => {
    sim.core.faults.failNext('server-error', 1, { operation: 'token' });
    const err = await failure(login());
    expect(err.name).toBe('unknown_error');
    expect(err.message).toBe('retry your request');
  });

  it('outage: the connection is dropped and the client sees a network error', async () => {
    const conn = await login();
    sim.core.faults.setOutage(true);
    const err = await failure(conn.sobject('Account').create({ Name: 'X' }));
    expect(err.errorCode).toBeUndefined();
    expect(err.message).toMatch(/socket hang up|fetch failed|other side closed|ECONNRESET/i);
    sim.core.faults.setOutage(false);
    expect(sim.records('Account')).toEqual([]);
  });
});

describe('change events', () => {
  const secret = `whsec_${Buffer.from('salesforce-sim-test-secret-32bytes!').toString('base64')}`;
  let receiver: Server;
  let receiverUrl: string;
  const received: { body: string; headers: Record<string, string> }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        received.push({ body: Buffer.concat(chunks).toString('utf8'), headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });
  beforeEach(() => {
    received.length = 0;
  });

  it('delivers signed CDC-shaped events for API creates, updates, upserts and deletes, and UI changes', async () => {
    const put = await fetch(`${url}/__admin/events`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiverUrl, secret }),
    });
    expect(await put.json()).toEqual({ configured: true });
    const conn = await login({ client: 'integration-coordinator' });
    const created = await conn.sobject('Account').create({ Name: 'Acme', Phone: '1' });
    const id = created.id!;
    await conn.sobject('Account').update({ Id: id, Phone: null, Website: 'https://acme.example' });
    await conn.sobject('Account').upsert({ Integration_Id__c: 'E-1', Name: 'Upserted' }, 'Integration_Id__c');
    const ui = await fetch(`${url}/__admin/records/Account/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Description: 'edited by a person' }),
    });
    expect(ui.status).toBe(200);
    await conn.sobject('Account').destroy(id);

    await vi.waitFor(() => expect(received).toHaveLength(5), { timeout: 5000, interval: 20 });
    const wh = new Webhook(secret);
    const events = received
      .map((r) => ({
        id: r.headers['webhook-id'],
        msg: wh.verify(r.body, r.headers) as { type: string; data: ChangeEvent },
      }))
      .sort((a, b) => a.msg.data.event.replayId - b.msg.data.event.replayId);
    expect(events.every((e) => e.msg.type === 'salesforce.change')).toBe(true);
    expect(events.map((e) => e.id)).toEqual(
      events.map((e) => `sfcdc_${sim.options.orgId}_${e.msg.data.event.replayId}`),
    );
    const headers = events.map((e) => e.msg.data.payload.ChangeEventHeader);
    expect(headers.map((h) => h.changeType)).toEqual(['CREATE', 'UPDATE', 'CREATE', 'UPDATE', 'DELETE']);
    const apiOrigin = 'com/salesforce/api/rest/62.0;client=integration-coordinator';
    expect(headers.map((h) => h.changeOrigin)).toEqual([apiOrigin, apiOrigin, apiOrigin, '', apiOrigin]);
    expect(headers.map((h) => h.commitUser)).toEqual([
      sim.options.userId,
      sim.options.userId,
      sim.options.userId,
      sim.options.uiUserId,
      sim.options.userId,
    ]);
    expect(headers[0]).toMatchObject({
      entityName: 'Account',
      recordIds: [id],
      changedFields: [],
      nulledFields: [],
      diffFields: [],
    });
    const create = events[0]!.msg.data.payload;
    expect(create).toMatchObject({ Name: 'Acme', Phone: '1', OwnerId: sim.options.userId });
    expect(create).not.toHaveProperty('Website');
    expect(create).not.toHaveProperty('Id');
    expect(headers[1]!.changedFields).toEqual(['Phone', 'Website', 'LastModifiedDate']);
    expect(events[1]!.msg.data.payload).toMatchObject({ Phone: null, Website: 'https://acme.example' });
    expect(events[3]!.msg.data.payload).toMatchObject({ Description: 'edited by a person' });
    expect(headers[3]!.changedFields).toEqual(['Description', 'LastModifiedById', 'LastModifiedDate']);
    expect(Object.keys(events[4]!.msg.data.payload)).toEqual(['ChangeEventHeader']);
    expect(events[0]!.msg.data.channel).toBe('/data/AccountChangeEvent');
    expect(typeof headers[0]!.transactionKey).toBe('string');
    expect(headers[0]!.commitTimestamp).toBeGreaterThan(0);
  });

  it('gives every record of one collection call the same transaction key, in sequence', async () => {
    sim.configureEvents({ url: receiverUrl, secret });
    const conn = await login();
    await conn
      .sobject('Contact')
      .create([{ LastName: 'A' }, { LastName: 'B' }, { FirstName: 'no last name' }]);
    await sim.drainEvents();
    expect(received).toHaveLength(2);
    const headers = sim.changeEvents().map((e) => e.payload.ChangeEventHeader);
    expect(headers.map((h) => h.sequenceNumber)).toEqual([1, 2]);
    expect(new Set(headers.map((h) => h.transactionKey)).size).toBe(1);
    expect(headers[0]!.changeOrigin).toBe('com/salesforce/api/rest/62.0');
  });

  it('sends nothing for a rolled-back allOrNone call, and nothing once events are switched off', async () => {
    sim.configureEvents({ url: receiverUrl, secret });
    const conn = await login();
    await conn.sobject('Contact').create([{ LastName: 'A' }, { FirstName: 'x' }], { allOrNone: true });
    await fetch(`${url}/__admin/events`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await conn.sobject('Contact').create({ LastName: 'Quiet' });
    await sim.drainEvents();
    expect(received).toHaveLength(0);
    expect(sim.changeEvents()).toHaveLength(1); // recorded, just not delivered
  });
});
