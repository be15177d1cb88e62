import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCdcSubscribers } from '../../src/cdc/main';
import { loadConfig } from '../../src/config';
import { getCdcSubscriptionQuery } from '../../src/workflows/cdc-subscription.messages';
import { getEntityStateQuery } from '../../src/workflows/entity-sync.messages';
import type { batchSync } from '../../src/workflows/batch-sync';
import { getSyncStateQuery, syncStateWorkflowId } from '../../src/workflows/batch-sync.messages';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * The Salesforce CDC subscriber end to end: changes made through jsforce in the simulator, read from its
 * Pub/Sub API by the subscriber, handed to the entity workflows on a real Temporal server, applied by the
 * real workers to the SAP simulator.
 */

const quiet = { info() {}, warn() {}, error() {} };

describe('Salesforce CDC subscriber (Pub/Sub API -> entity workflows -> SAP)', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  let crm: Connection;
  const prefix = uniquePrefix('cdc');
  const idPrefix = `${prefix}:`;
  const catchUpSync = `${prefix}-customers`;

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t, { TASK_QUEUE_PREFIX: prefix });
    workers = await env.startWorkers(prefix);
    // A user's CRM client: its changes carry its own origin, not the coordinator's.
    crm = new jsforce.Connection({
      oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: env.salesforce.url },
      loginUrl: env.salesforce.url,
      version: '62.0',
      callOptions: { client: 'crm-user' },
    });
    await crm.login('integration@example.com', 'dev-password');
  });
  afterAll(async () => {
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  function subscriber(channels = '/data/AccountChangeEvent') {
    const config = loadConfig({
      ...process.env,
      API_TOKEN: 'test-token-0123456789abcdef',
      TASK_QUEUE_PREFIX: prefix,
      SALESFORCE_LOGIN_URL: env.salesforce.url!,
      SALESFORCE_PUBSUB_ENDPOINT: env.salesforce.pubSub!.endpoint,
      CDC_CHANNELS: channels,
      CDC_BATCH_SIZE: '5',
      // This file's own customer sync: the catch-up after lost changes is a backfill run of it.
      BATCH_SYNCS: JSON.stringify([{ name: catchUpSync, direction: 'salesforce-to-sap', lookback: '1m' }]),
    });
    const cdc = createCdcSubscribers(config, t.client, {
      caCertificate: env.salesforce.pubSub!.caCertificate,
      workflowIdPrefix: idPrefix,
      logger: quiet,
    });
    cdc.start();
    return cdc;
  }
  const stateOf = () =>
    t.client.workflow
      .getHandle(`${idPrefix}cdc-subscription:/data/AccountChangeEvent`)
      .query(getCdcSubscriptionQuery);
  const accountState = (id: string) =>
    t.client.workflow.getHandle(`${idPrefix}account:${id}`).query(getEntityStateQuery);
  const sapNumberOf = (id: string) =>
    waitFor(
      `SAP number on ${id}`,
      () => {
        const v = env.salesforce.record('Account', id)?.SAP_Customer_Number__c;
        return typeof v === 'string' && v !== '' ? v : undefined;
      },
      60_000,
    );
  const address = {
    BillingStreet: 'Hauptstr. 1',
    BillingCity: 'Berlin',
    BillingPostalCode: '10115',
    BillingCountry: 'DE',
  };

  async function createAccount(name: string): Promise<string> {
    const res = (await crm.sobject('Account').create({ Name: name, ...address })) as { id: string };
    return res.id;
  }

  it('an Account created through jsforce reaches SAP through the subscriber, and the position is stored after hand-over', async () => {
    const cdc = subscriber();
    try {
      await waitFor('the subscription', () =>
        env.salesforce.pubsub.subscribers().some((s) => s.channel === '/data/AccountChangeEvent'),
      );
      const id = await createAccount(`CDC One ${prefix}`);
      const kunnr = await sapNumberOf(id);
      expect(env.sap.customer(kunnr)?.NAME1).toBe(`CDC One ${prefix}`.slice(0, 35));
      const state = await waitFor('the stored replay id', async () => {
        const s = await stateOf();
        return s.handedOver >= 1 ? s : undefined;
      });
      expect(state.replayId).toBeTruthy();
      // The SAP number reaches Salesforce from inside the entity workflow's last activity; the outcome is
      // recorded in the workflow task after it, so wait for that task rather than read too early.
      const entity = await waitFor('the entity workflow to record the outcome', async () => {
        const e = await accountState(id);
        return e.recent.length > 0 ? e : undefined;
      });
      expect(entity.recent.map((r) => r.outcome)).toEqual(['applied']);
      expect(entity.recent[0]!.eventId).toMatch(/^sfcdc:[0-9a-f-]{36}:\d+$/);
    } finally {
      await cdc.stop();
    }
  });

  it('a transaction changing three Accounts the same way is one change event and three entity events', async () => {
    const cdc = subscriber();
    try {
      const name = `CDC Triplet ${prefix}`;
      const created = (await crm
        .sobject('Account')
        .create([1, 2, 3].map(() => ({ Name: name, ...address })))) as { id: string }[];
      const ids = created.map((r) => r.id);
      const events = env.salesforce.pubsub
        .events('/data/AccountChangeEvent')
        .filter((e) => e.header?.recordIds.includes(ids[0]!));
      expect(events).toHaveLength(1);
      expect(events[0]!.header!.recordIds).toEqual(ids);
      for (const [i, id] of ids.entries()) {
        const outcome = await waitFor(
          `the event of ${id}`,
          async () =>
            (await accountState(id).catch(() => undefined))?.recent.find((r) => r.eventId.endsWith(`:${i}`)),
          60_000,
        );
        expect(outcome.outcome).toBe('applied');
      }
    } finally {
      await cdc.stop();
    }
  });

  it('a subscriber stopped mid-stream resumes from the stored replay id: nothing lost, nothing applied twice', async () => {
    const first = subscriber();
    await waitFor('the subscription', () => env.salesforce.pubsub.subscribers().length > 0);
    const before = await createAccount(`CDC Before ${prefix}`);
    await sapNumberOf(before);
    const storedBefore = await waitFor('the position after the first account', async () => {
      const s = await stateOf();
      return s.handedOver >= 1 && (await accountState(before).catch(() => undefined)) ? s : undefined;
    });
    await first.stop();

    // Changes while no subscriber runs.
    const during = [
      await createAccount(`CDC During A ${prefix}`),
      await createAccount(`CDC During B ${prefix}`),
    ];
    const second = subscriber();
    try {
      for (const id of during) await sapNumberOf(id);
      const after = await stateOf();
      expect(after.replayId).not.toBe(storedBefore.replayId);
      for (const id of [before, ...during]) {
        const s = await waitFor(`the outcome for ${id}`, async () => {
          const state = await accountState(id);
          return state.recent.some((r) => r.outcome === 'applied') ? state : undefined;
        });
        // A change handed over twice (the first subscriber stopped before storing it) is a duplicate.
        expect(s.recent.filter((r) => r.outcome === 'applied')).toHaveLength(1);
      }
      const names = env.sap.customers().map((c) => c.NAME1);
      for (const n of ['CDC Before', 'CDC During A', 'CDC During B'])
        expect(names.filter((x) => x === `${n} ${prefix}`.slice(0, 35))).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  // Three subscriptions, a backfill run and three entity flows one after the other: well under a minute
  // alone, but it passed 60 s once in CI while other test runs shared the two cores (hence 120 s).
  it('a stored replay id older than the retention starts the catch-up: the changes of the outage reach SAP through a backfill, and the subscription goes on from the latest event', async () => {
    const stopped = subscriber();
    await waitFor('the subscription', () => env.salesforce.pubsub.subscribers().length > 0);
    await waitFor('a stored position', async () => (await stateOf()).replayId);
    await stopped.stop();
    // Changed while no subscriber runs, and then gone from the event bus.
    const lost = [await createAccount(`CDC Lost A ${prefix}`), await createAccount(`CDC Lost B ${prefix}`)];
    env.salesforce.pubsub.purge(); // the retention window passes
    const alertsBefore = env.alerts.received.length;

    const cdc = subscriber();
    try {
      const problem = await waitFor('the expired replay id to be reported', async () =>
        (await stateOf()).problems.find((p) => p.kind === 'replay-id-expired'),
      );
      expect(problem.detail).toContain('replayid.invalid');
      expect(problem.catchUp).toMatchObject({ sync: catchUpSync });
      expect(problem.catchUp!.workflowId).toMatch(new RegExp(`^sync-backfill:${catchUpSync}:`));
      const alert = await waitFor('the catch-up alert', () =>
        env.alerts.received
          .slice(alertsBefore)
          .find((a) => JSON.stringify(a.body).includes('replay-id-expired')),
      );
      expect(JSON.stringify(alert.body)).toContain(problem.catchUp!.workflowId);
      expect((await stateOf()).catchUpsRequested).toBeGreaterThanOrEqual(1);

      // The catch-up is a backfill run of the customer sync over the window since the last commit handed
      // over: the Accounts changed during the outage reach SAP, once each.
      const run = await t.client.workflow.getHandle<typeof batchSync>(problem.catchUp!.workflowId).result();
      expect(run.mode).toBe('backfill');
      expect(run.counts.created).toBeGreaterThanOrEqual(lost.length);
      for (const [i, id] of lost.entries()) {
        const kunnr = await sapNumberOf(id);
        const name = `CDC Lost ${'AB'[i]} ${prefix}`.slice(0, 35);
        expect(env.sap.customer(kunnr)?.NAME1).toBe(name);
        expect(env.sap.customers().filter((c) => c.NAME1 === name)).toHaveLength(1);
      }
      // A backfill never moves the live cursor of the sync.
      const syncState = await t.client.workflow
        .getHandle(syncStateWorkflowId(catchUpSync))
        .query(getSyncStateQuery);
      expect(syncState.cursor).toBeUndefined();

      await waitFor('the new subscription', () => env.salesforce.pubsub.subscribers().length > 0);
      const id = await createAccount(`CDC After Expiry ${prefix}`);
      await sapNumberOf(id);
    } finally {
      await cdc.stop();
    }
  }, 120_000);

  it('GAP_OVERFLOW starts the catch-up: the records of the overflowing transaction reach SAP through a backfill', async () => {
    const cdc = subscriber();
    try {
      await waitFor('the subscription', () => env.salesforce.pubsub.subscribers().length > 0);
      // Changed by a transaction too large for change events: the event names no fields at all.
      const [id] = env.salesforce.seed('Account', { Name: `CDC Overflow ${prefix}`, ...address });
      env.salesforce.pubsub.injectGap('Account', 'GAP_OVERFLOW', [id!]);
      const problem = await waitFor('the overflow to be reported', async () =>
        (await stateOf()).problems.find((p) => p.kind === 'gap-overflow'),
      );
      expect(problem.catchUp?.sync).toBe(catchUpSync);
      const run = await t.client.workflow.getHandle<typeof batchSync>(problem.catchUp!.workflowId).result();
      expect(run.mode).toBe('backfill');
      const kunnr = await sapNumberOf(id!);
      expect(env.sap.customer(kunnr)?.NAME1).toBe(`CDC Overflow ${prefix}`.slice(0, 35));
    } finally {
      await cdc.stop();
    }
  });

  it('a gap event re-reads its records; malformed and unknown-schema events are reported and skipped without stopping the stream', async () => {
    const cdc = subscriber();
    try {
      await waitFor('the subscription', () => env.salesforce.pubsub.subscribers().length > 0);
      // An Account that never produced a change event (loaded directly), then named by a gap event.
      const [gapId] = env.salesforce.seed('Account', { Name: `CDC Gap ${prefix}`, ...address });
      env.salesforce.pubsub.injectMalformed('Account');
      env.salesforce.pubsub.injectUnknownSchema('Account');
      env.salesforce.pubsub.injectGap('Account', 'GAP_CREATE', [gapId!]);
      const kunnr = await sapNumberOf(gapId!);
      expect(env.sap.customer(kunnr)?.NAME1).toBe(`CDC Gap ${prefix}`.slice(0, 35));
      const problems = (await stateOf()).problems.map((p) => p.kind);
      expect(problems).toEqual(expect.arrayContaining(['malformed-event', 'unknown-schema']));
      const id = await createAccount(`CDC After Gap ${prefix}`);
      await sapNumberOf(id);
    } finally {
      await cdc.stop();
    }
  });
});
