import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { RunningSimulator } from '../../src/simulators/common/server';

/**
 * The simulator's Pub/Sub API checked with an independent client written against real Salesforce:
 * `salesforce-pubsub-api-client` (its own gRPC stubs from the published proto, its own Avro library
 * `avro-js`, its own bitmap decoding). If the simulator's schemas, payloads, bitmaps, replay ids or flow
 * control were off, this client would fail to decode them or decode different field names.
 */

type Received = {
  replayId: number;
  payload: {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: string;
      changeOrigin: string;
      changedFields: string[];
      nulledFields: string[];
      commitTimestamp: number;
      transactionKey: string;
    };
    [field: string]: unknown;
  };
};

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

const sim = createSalesforceSimulator({ pubSubKeepaliveMs: 300 });
let running: RunningSimulator;
let conn: Connection;
const clients: PubSubApiClient[] = [];

beforeAll(async () => {
  running = await sim.start({ port: 0 });
  conn = new jsforce.Connection({
    oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: running.url },
    loginUrl: running.url,
    version: '62.0',
    callOptions: { client: 'pubsub-test' },
  });
  await conn.login('integration@example.com', 'dev-password');
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  // Ends the server side of every stream at once, so the next test sees only its own subscriptions.
  sim.pubsub.reset();
});
afterAll(async () => {
  await sim.stop();
});

async function pubSubClient(accessToken = conn.accessToken!): Promise<PubSubApiClient> {
  const client = new PubSubApiClient(
    {
      authType: 'user-supplied',
      accessToken,
      // The client only forwards it as `instanceurl` metadata, but insists on https (real instances are).
      instanceUrl: conn.instanceUrl.replace(/^http:/, 'https:'),
      organizationId: conn.userInfo!.organizationId,
      pubSubEndpoint: sim.pubSub!.endpoint,
      // The simulator's certificate is self-signed at start-up.
      rejectUnauthorizedSsl: false,
    },
    quietLogger,
  );
  await client.connect();
  clients.push(client);
  return client;
}

/** Collects what a subscription's callback reports, and waits for conditions on it. */
function collector() {
  const events: Received[] = [];
  const errors: { code?: number; details?: string; metadata?: { get(k: string): unknown[] } }[] = [];
  const keepalives: { latestReplayId: number }[] = [];
  let lastEvent = false;
  const callback = (sub: { lastReplayId: number }, type: string, data: unknown) => {
    if (type === 'event') events.push(data as Received);
    if (type === 'error') errors.push(data as (typeof errors)[number]);
    // The client reports a keepalive without data; it keeps the latest replay id in the subscription.
    if (type === 'grpcKeepAlive') keepalives.push({ latestReplayId: sub.lastReplayId });
    if (type === 'lastEvent') lastEvent = true;
  };
  const until = async (what: string, ok: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { events, errors, keepalives, callback, until, lastEventSeen: () => lastEvent };
}

const subscribed = (channel: string) =>
  sim.pubsub.subscribers().some((sub) => sub.channel === channel && sub.pending > 0);

describe('Salesforce Pub/Sub API (checked with salesforce-pubsub-api-client)', () => {
  it('delivers an Account update with the changed fields, nested compound fields and origin decoded by the client', async () => {
    const id = (await conn.sobject('Account').create({ Name: 'Pub Sub One', BillingCity: 'Paris' })) as {
      id: string;
    };
    const client = await pubSubClient();
    const c = collector();
    client.subscribeFromEarliestEvent('/data/AccountChangeEvent', c.callback, 10);
    await c.until('the create', () => c.events.length >= 1);
    await conn
      .sobject('Account')
      .update({ Id: id.id, Phone: '+33 1 23', BillingCity: 'Lyon', Website: null });
    await c.until('the update', () => c.events.length >= 2);

    const [created, updated] = c.events as [Received, Received];
    expect(created.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Account',
      recordIds: [id.id],
      changeType: 'CREATE',
      changeOrigin: 'com/salesforce/api/rest/62.0;client=pubsub-test',
      changedFields: [],
    });
    expect(created.payload.Name).toBe('Pub Sub One');
    expect(created.payload.BillingAddress).toMatchObject({ City: 'Paris', Street: null });

    expect(updated.replayId).toBeGreaterThan(created.replayId);
    expect(updated.payload.ChangeEventHeader.changeType).toBe('UPDATE');
    expect([...updated.payload.ChangeEventHeader.changedFields].sort()).toEqual(
      ['BillingAddress.City', 'LastModifiedDate', 'Phone'].sort(),
    );
    // Unchanged fields are null in an UPDATE; the compound carries only the changed component.
    expect(updated.payload.Name).toBeNull();
    expect(updated.payload.Phone).toBe('+33 1 23');
    expect(updated.payload.BillingAddress).toMatchObject({ City: 'Lyon', Country: null });
    expect(typeof updated.payload.LastModifiedDate).toBe('number');
  });

  it('merges a transaction that changes three Accounts the same way into one event naming all three', async () => {
    const ids = (await conn
      .sobject('Account')
      .create([{ Name: 'Three A' }, { Name: 'Three B' }, { Name: 'Three C' }])) as { id: string }[];
    const client = await pubSubClient();
    const c = collector();
    client.subscribe('/data/AccountChangeEvent', c.callback, 10);
    // A subscription from LATEST sees only what comes after it: wait until the server holds it.
    await c.until('the subscription', () => subscribed('/data/AccountChangeEvent'));
    await conn.sobject('Account').update(ids.map((r) => ({ Id: r.id, Industry: 'Energy' })));
    await c.until('the merged update', () => c.events.length >= 1);
    expect(c.events).toHaveLength(1);
    expect(c.events[0]!.payload.ChangeEventHeader.recordIds).toEqual(ids.map((r) => r.id));
    expect(c.events[0]!.payload.Industry).toBe('Energy');
  });

  it('resumes after a replay id (CUSTOM) and honours num_requested (flow control)', async () => {
    const before = Number(sim.pubsub.latestReplayId());
    for (const n of [1, 2, 3, 4])
      await conn.sobject('Opportunity').create({
        Name: `Flow ${n}`,
        StageName: 'Prospecting',
        CloseDate: '2027-01-0' + n,
      });
    const client = await pubSubClient();
    const c = collector();
    client.subscribeFromReplayId('/data/OpportunityChangeEvent', c.callback, 2, before);
    await c.until('two events and the end of the batch', () => c.events.length >= 2 && c.lastEventSeen());
    expect(c.events.map((e) => e.payload.Name)).toEqual(['Flow 1', 'Flow 2']);
    // Dates are Avro ints (days since the epoch) per the schema.
    expect(c.events[0]!.payload.CloseDate).toBe(Date.parse('2027-01-01') / 86_400_000);
  });

  it('sends keepalives carrying the latest replay id when there is nothing to deliver', async () => {
    const client = await pubSubClient();
    const c = collector();
    client.subscribe('/data/OpportunityChangeEvent', c.callback, 5);
    await c.until('a keepalive', () => c.keepalives.length > 0);
    expect(c.keepalives[0]!.latestReplayId).toBe(Number(sim.pubsub.latestReplayId()));
  });

  it('refuses a replay id older than the retained events, and an unknown access token', async () => {
    await conn.sobject('Account').create({ Name: 'Retention' });
    const old = Number(sim.pubsub.latestReplayId());
    await conn.sobject('Account').create({ Name: 'Retention 2' });
    sim.pubsub.purge();
    const client = await pubSubClient();
    const c = collector();
    client.subscribeFromReplayId('/data/AccountChangeEvent', c.callback, 5, old);
    await c.until('the error', () => c.errors.length > 0);
    expect(c.errors[0]!.code).toBe(3); // INVALID_ARGUMENT
    expect(c.errors[0]!.metadata?.get('error-code')).toEqual([
      'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.invalid',
    ]);

    const stranger = await pubSubClient('00DDn0000001aBc!not-a-session');
    const s = collector();
    stranger.subscribe('/data/AccountChangeEvent', s.callback, 1);
    await s.until('the auth error', () => s.errors.length > 0);
    expect(s.errors[0]!.code).toBe(16); // UNAUTHENTICATED
  });

  it('sends gap events on demand through the admin surface: header only, the named records', async () => {
    const client = await pubSubClient();
    const c = collector();
    client.subscribe('/data/AccountChangeEvent', c.callback, 5);
    await c.until('the subscription', () => subscribed('/data/AccountChangeEvent'));
    const res = await fetch(`${running.url}/__admin/pubsub/gap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entity: 'Account', changeType: 'GAP_UPDATE', recordIds: ['001Dn000000GapAAA'] }),
    });
    expect(res.status).toBe(200);
    await c.until('the gap event', () => c.events.length > 0);
    expect(c.events[0]!.payload.ChangeEventHeader).toMatchObject({
      changeType: 'GAP_UPDATE',
      recordIds: ['001Dn000000GapAAA'],
      changedFields: [],
    });
    expect(c.events[0]!.payload.Name).toBeNull();
  });
});
