import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityEvent, EntitySyncInput } from '../../src/workflows/entity-sync.messages';
import {
  entityEventSignal,
  getEntityStateQuery,
  routeEntityEvent,
} from '../../src/workflows/entity-sync.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { SalesforceId } from '../../src/workflows/shared/search-attributes';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

const ours = 'com/salesforce/api/rest/62.0;client=integration-coordinator';
const salesforceUser = '';

describe('event sync: entity workflows on a real Temporal server, real clients, simulators', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const prefix = uniquePrefix('sync');
  let seq = 0;
  let clock = Date.parse('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
  });
  afterAll(async () => {
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  /** What the ingress does: signal-with-start to the record's own workflow. */
  async function send(
    partial: Omit<EntityEvent, 'eventId' | 'receivedAt' | 'occurredAt'> & {
      eventId?: string;
      occurredAt?: string;
    },
    extra: Partial<EntitySyncInput> = {},
  ) {
    clock += 1000;
    const event: EntityEvent = {
      eventId: partial.eventId ?? `${prefix}-evt-${++seq}`,
      occurredAt: partial.occurredAt ?? new Date(clock).toISOString(),
      receivedAt: new Date().toISOString(),
      ...partial,
    };
    const route = routeEntityEvent(event);
    const workflowId = `${prefix}:${route.workflowId}`;
    await t.client.workflow.signalWithStart(route.workflowType, {
      workflowId,
      taskQueue: taskQueueName(prefix, coordinatorQueue),
      args: [{ route: { ...route, workflowId }, idleTimeout: '5m', ...extra } satisfies EntitySyncInput],
      signal: entityEventSignal,
      signalArgs: [event],
    });
    return { event, workflowId };
  }
  const state = (workflowId: string) => t.client.workflow.getHandle(workflowId).query(getEntityStateQuery);
  const outcomeOf = (workflowId: string, eventId: string) =>
    waitFor(`outcome of ${eventId}`, async () =>
      (await state(workflowId)).recent.find((r) => r.eventId === eventId),
    );

  /** An SAP customer and a linked Account, the precondition of an order. */
  function linkedAccount(label: string) {
    const kunnr = String(200000 + Math.floor(Math.random() * 700000)).padStart(10, '0');
    env.sap.putCustomer({ KUNNR: kunnr, NAME1: `${label} ${prefix}`.slice(0, 35) });
    const [accountId] = env.salesforce.seed('Account', {
      Name: `${label} Ltd`,
      SAP_Customer_Number__c: kunnr,
    });
    return { kunnr, accountId: accountId! };
  }
  function wonOpportunity(label: string, extra: Record<string, unknown> = {}) {
    const { kunnr, accountId } = linkedAccount(label);
    const [id] = env.salesforce.seed('Opportunity', {
      Name: `${label} deal`,
      AccountId: accountId,
      StageName: 'Closed Won',
      CloseDate: '2026-03-01',
      SAP_Material__c: 'MAT-1000',
      Quantity__c: 2,
      ...extra,
    });
    return { kunnr, accountId, opportunityId: id! };
  }
  const opportunityUpdated = (
    id: string,
    fields: Record<string, unknown>,
    origin = salesforceUser,
    eventId?: string,
  ) =>
    send({
      source: 'salesforce',
      kind: 'opportunity.updated',
      recordId: id,
      origin,
      fields,
      changedFields: Object.keys(fields),
      ...(eventId ? { eventId } : {}),
    });

  /** How many times the run (the latest of the id) set its SalesforceId search attribute. */
  const salesforceIdUpserts = async (workflowId: string) => {
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter(
      (e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.SalesforceId,
    ).length;
  };

  /** Timers the run (the latest of the id) started and cancelled: the idle close's, no more. */
  const timers = async (workflowId: string) => {
    const events = (await t.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    return {
      started: events.filter((e) => e.timerStartedEventAttributes).length,
      cancelled: events.filter((e) => e.timerCanceledEventAttributes).length,
    };
  };

  it('account.created by a user creates the SAP customer and writes its number back; our own Accounts are echoes', async () => {
    const [accountId] = env.salesforce.seed('Account', {
      Name: `Babbage ${prefix}`.slice(0, 35),
      BillingStreet: '1 Dorset St',
      BillingCity: 'London',
      BillingPostalCode: 'W1U 4EG',
      BillingCountry: 'GB',
    });
    const { event, workflowId } = await send({
      source: 'salesforce',
      kind: 'account.created',
      recordId: accountId!,
      origin: salesforceUser,
      fields: {},
    });
    expect(await outcomeOf(workflowId, event.eventId)).toMatchObject({
      outcome: 'applied',
      detail: expect.stringMatching(/^created SAP customer \d{10}$/),
    });
    const number = env.salesforce.record('Account', accountId!)?.SAP_Customer_Number__c as string;
    expect(env.sap.customer(number)).toMatchObject({
      NAME1: `Babbage ${prefix}`.slice(0, 35),
      ORT01: 'London',
      LAND1: 'GB',
    });

    const redelivered = await send({ ...event, eventId: event.eventId });
    await waitFor('the duplicate', async () =>
      (await state(redelivered.workflowId)).recent.some((r) => r.outcome === 'duplicate'),
    );
    expect(env.sap.customers().filter((c) => c.NAME1 === `Babbage ${prefix}`.slice(0, 35))).toHaveLength(1);

    const [own] = env.salesforce.seed('Account', { Name: 'Made by the coordinator' });
    const echo = await send({
      source: 'salesforce',
      kind: 'account.created',
      recordId: own!,
      origin: ours,
      fields: {},
    });
    expect(await outcomeOf(echo.workflowId, echo.event.eventId)).toMatchObject({ outcome: 'echo' });
  });

  it('an Account SAP cannot take is reported as failed, alerted, and the workflow goes on', async () => {
    const [accountId] = env.salesforce.seed('Account', { Name: 'No Address Ltd' });
    const { event, workflowId } = await send({
      source: 'salesforce',
      kind: 'account.created',
      recordId: accountId!,
      fields: {},
    });
    expect(await outcomeOf(workflowId, event.eventId)).toMatchObject({
      outcome: 'failed',
      detail: expect.stringContaining('InvalidInput: Account'),
    });
    expect(env.alerts.received.some((a) => a.body?.metadata?.workflowId === workflowId)).toBe(true);
  });

  it('Closed Won creates the SAP order, writes number and SAP price back, and publishes opportunity.sync', async () => {
    const { opportunityId, kunnr } = wonOpportunity('Won');
    const { event, workflowId } = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    expect(await outcomeOf(workflowId, event.eventId)).toMatchObject({
      outcome: 'applied',
      detail: expect.stringContaining(`for customer ${kunnr}`),
    });
    const opp = env.salesforce.record('Opportunity', opportunityId)!;
    const order = env.sap.order(opp.SAP_Order_Number__c as string)!;
    expect(order).toMatchObject({ KUNNR: kunnr, BSTKD: opportunityId });
    expect(order.items[0]).toMatchObject({ MATNR: 'MAT-1000', KWMENG: 2 });
    expect(opp.Amount).toBe(Number(order.NETWR));
    const published = await env.webhooks.waitFor(
      (d) => d.type === 'opportunity.sync' && (d.body as any).data.opportunityId === opportunityId,
    );
    expect((published.body as any).data).toMatchObject({
      action: 'created-in-sap',
      sapOrderNumber: order.VBELN,
    });

    // Redelivery of the won event creates no second order.
    const again = await opportunityUpdated(
      opportunityId,
      { StageName: 'Closed Won' },
      salesforceUser,
      event.eventId,
    );
    await waitFor(
      'the duplicate',
      async () =>
        (await state(again.workflowId)).recent.filter((r) => r.outcome === 'duplicate').length === 1,
    );
    expect(env.sap.orders().filter((o) => o.BSTKD === opportunityId)).toHaveLength(1);
  });

  it('applies a burst of changes to one record strictly in order, each once', async () => {
    const { opportunityId } = wonOpportunity('Burst');
    const first = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    await outcomeOf(first.workflowId, first.event.eventId);
    const dates = Array.from({ length: 8 }, (_, i) => `2026-04-${String(i + 10).padStart(2, '0')}`);
    const sent: Awaited<ReturnType<typeof send>>[] = [];
    for (const d of dates) sent.push(await opportunityUpdated(opportunityId, { CloseDate: d }));
    const last = sent.at(-1)!;
    await outcomeOf(last.workflowId, last.event.eventId);
    const s = await state(last.workflowId);
    const applied = s.recent.filter((r) => sent.some((x) => x.event.eventId === r.eventId));
    expect(applied.map((r) => r.eventId)).toEqual(sent.map((x) => x.event.eventId));
    expect(applied.every((r) => r.outcome === 'applied')).toBe(true);
    const vbeln = env.salesforce.record('Opportunity', opportunityId)!.SAP_Order_Number__c as string;
    expect(env.sap.order(vbeln)!.VDATU).toBe('2026-04-17');
    // The record's link is set once, not once per event (each would be a history event and a visibility write).
    expect(await salesforceIdUpserts(last.workflowId)).toBe(1);
    // One idle timer for the run, not one started and cancelled with every event.
    expect(await timers(last.workflowId)).toEqual({ started: 1, cancelled: 0 });
    const described = await t.client.workflow.getHandle(last.workflowId).describe();
    expect(described.typedSearchAttributes.get(SalesforceId)).toBe(opportunityId);
  });

  it('waits for the next change with one idle timer per run, not a timer started and cancelled per change', async () => {
    const { opportunityId } = wonOpportunity('Spaced');
    const won = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    await outcomeOf(won.workflowId, won.event.eventId);
    // Each change reaches a workflow that is waiting for the next one (the CDC intake's usual case).
    for (const d of ['2026-06-01', '2026-06-02', '2026-06-03']) {
      const change = await opportunityUpdated(opportunityId, { CloseDate: d });
      expect(await outcomeOf(change.workflowId, change.event.eventId)).toMatchObject({ outcome: 'applied' });
    }
    expect(await timers(won.workflowId)).toEqual({ started: 1, cancelled: 0 });
  });

  it('drops echoes both ways: our SAP change coming back from SAP, our Salesforce write coming back from Salesforce', async () => {
    const { opportunityId } = wonOpportunity('Echo');
    const won = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    await outcomeOf(won.workflowId, won.event.eventId);
    const vbeln = env.salesforce.record('Opportunity', opportunityId)!.SAP_Order_Number__c as string;
    const changesBefore = env.sap.core.requests.list({ operation: 'BAPI_SALESORDER_CHANGE' }).length;

    // Salesforce -> SAP, then SAP reports the change the coordinator made (CHANGED_BY = its user).
    const sfChange = await opportunityUpdated(opportunityId, { CloseDate: '2026-05-01' });
    expect(await outcomeOf(sfChange.workflowId, sfChange.event.eventId)).toMatchObject({
      outcome: 'applied',
    });
    const sapEcho = await send({
      source: 'sap',
      kind: 'sap.salesorder.changed',
      recordId: vbeln,
      origin: 'DEV_USER',
      fields: { SALESDOCUMENT: vbeln, PURCH_NO_C: opportunityId, CUSTOMER: '', REQ_DATE_H: '2026-05-01' },
      changedFields: ['REQ_DATE_H'],
    });
    expect(await outcomeOf(sapEcho.workflowId, sapEcho.event.eventId)).toMatchObject({ outcome: 'echo' });

    // SAP -> Salesforce, then Salesforce reports the write the coordinator made (changeOrigin client=...).
    const sapChange = await send({
      source: 'sap',
      kind: 'sap.salesorder.changed',
      recordId: vbeln,
      origin: 'MMUSTERMANN',
      fields: { SALESDOCUMENT: vbeln, PURCH_NO_C: opportunityId, REQ_DATE_H: '2026-06-15' },
      changedFields: ['REQ_DATE_H'],
    });
    expect(await outcomeOf(sapChange.workflowId, sapChange.event.eventId)).toMatchObject({
      outcome: 'applied',
    });
    expect(env.salesforce.record('Opportunity', opportunityId)!.CloseDate).toBe('2026-06-15');
    const sfEcho = await opportunityUpdated(opportunityId, { CloseDate: '2026-06-15' }, ours);
    expect(await outcomeOf(sfEcho.workflowId, sfEcho.event.eventId)).toMatchObject({ outcome: 'echo' });

    // Exactly one SAP change (the Salesforce user's), none caused by an echo.
    expect(env.sap.core.requests.list({ operation: 'BAPI_SALESORDER_CHANGE' }).length - changesBefore).toBe(
      1,
    );
  });

  it('two quick edits and their late echoes do not ping-pong: the last edit stays on both sides', async () => {
    const { opportunityId } = wonOpportunity('Quick');
    const won = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    await outcomeOf(won.workflowId, won.event.eventId);
    const vbeln = env.salesforce.record('Opportunity', opportunityId)!.SAP_Order_Number__c as string;
    const sfWritesBefore = env.salesforce.core.requests.list({ operation: 'update' }).length;

    // A user edits the quantity twice; both events are queued before SAP reports the first write back.
    env.salesforce.uiUpdate('Opportunity', opportunityId, { Quantity__c: 6 });
    const six = await opportunityUpdated(opportunityId, { Quantity__c: 6 });
    env.salesforce.uiUpdate('Opportunity', opportunityId, { Quantity__c: 7 });
    const seven = await opportunityUpdated(opportunityId, { Quantity__c: 7 });
    const echoOf = (qty: number, price: number) =>
      send({
        source: 'sap',
        kind: 'sap.salesorder.changed',
        recordId: vbeln,
        origin: 'DEV_USER',
        fields: {
          SALESDOCUMENT: vbeln,
          PURCH_NO_C: opportunityId,
          NET_VALUE: price,
          items: [{ MATERIAL: 'MAT-1000', REQ_QTY: qty }],
        },
        changedFields: ['TARGET_QTY', 'NET_VALUE'],
      });
    const echo6 = await echoOf(6, 600);
    const echo7 = await echoOf(7, 700);
    await outcomeOf(echo7.workflowId, echo7.event.eventId);
    const s = await state(echo7.workflowId);
    const outcome = (id: string) => s.recent.find((r) => r.eventId === id)?.outcome;
    expect([six, seven].map((x) => outcome(x.event.eventId))).toEqual(['applied', 'applied']);
    // The stale echo (6) must not be written back to Salesforce; SAP's price is SAP's to set.
    expect(env.salesforce.record('Opportunity', opportunityId)!.Quantity__c).toBe(7);
    expect(env.sap.order(vbeln)!.items[0]!.KWMENG).toBe(7);
    const quantityWrites = env.salesforce.core.requests
      .list({ operation: 'update' })
      .slice(sfWritesBefore)
      .filter((r) => r.path.includes(opportunityId));
    // At most the two price write-backs (600, then 700), never a quantity flip-flop.
    expect(quantityWrites.length).toBeLessThanOrEqual(2);
    expect(env.salesforce.record('Opportunity', opportunityId)!.Amount).toBe(700);
    expect(outcome(echo6.event.eventId)).toMatch(/applied|echo/);
  });

  it('resolves conflicts: ownership first, then the newest change by source time', async () => {
    const { opportunityId } = wonOpportunity('Conflict');
    const won = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    await outcomeOf(won.workflowId, won.event.eventId);
    const vbeln = env.salesforce.record('Opportunity', opportunityId)!.SAP_Order_Number__c as string;

    // A user changes the delivery date in SAP; its event (newer by source time) arrives first, and the
    // older Salesforce change of the same field arrives after it and loses.
    env.sap.changeOrderAsDialogUser(vbeln, { REQ_DATE_H: '2026-07-07' });
    const sapNewer = await send({
      source: 'sap',
      kind: 'sap.salesorder.changed',
      recordId: vbeln,
      origin: 'MMUSTERMANN',
      occurredAt: '2026-02-01T10:00:05Z',
      fields: { SALESDOCUMENT: vbeln, PURCH_NO_C: opportunityId, REQ_DATE_H: '2026-07-07' },
      changedFields: ['REQ_DATE_H'],
    });
    const sfOlder = await send({
      source: 'salesforce',
      kind: 'opportunity.updated',
      recordId: opportunityId,
      occurredAt: '2026-02-01T10:00:01Z',
      fields: { CloseDate: '2026-08-08' },
      changedFields: ['CloseDate'],
    });
    expect(await outcomeOf(sapNewer.workflowId, sapNewer.event.eventId)).toMatchObject({
      outcome: 'applied',
    });
    expect(await outcomeOf(sfOlder.workflowId, sfOlder.event.eventId)).toMatchObject({
      outcome: 'stale',
      detail: expect.stringContaining('requestedDate: older than the sap change'),
    });
    expect(env.sap.order(vbeln)!.VDATU).toBe('2026-07-07');
    expect(env.salesforce.record('Opportunity', opportunityId)!.CloseDate).toBe('2026-07-07');

    // Material is owned by Salesforce: an SAP-side change of it is not propagated.
    const sapMaterial = await send({
      source: 'sap',
      kind: 'sap.salesorder.changed',
      recordId: vbeln,
      origin: 'MMUSTERMANN',
      fields: { SALESDOCUMENT: vbeln, PURCH_NO_C: opportunityId, items: [{ MATERIAL: 'MAT-2000' }] },
      changedFields: ['MATERIAL'],
    });
    expect(await outcomeOf(sapMaterial.workflowId, sapMaterial.event.eventId)).toMatchObject({
      outcome: 'stale',
      detail: 'material: owned by salesforce',
    });
    expect(env.salesforce.record('Opportunity', opportunityId)!.SAP_Material__c).toBe('MAT-1000');
  });

  it('an SAP outage in the middle of a burst: every event is applied exactly once after recovery', async () => {
    const { opportunityId } = wonOpportunity('Outage');
    const won = await opportunityUpdated(opportunityId, { StageName: 'Closed Won' });
    await outcomeOf(won.workflowId, won.event.eventId);
    const vbeln = env.salesforce.record('Opportunity', opportunityId)!.SAP_Order_Number__c as string;
    const before = env.sap.core.requests
      .list({ operation: 'BAPI_SALESORDER_CHANGE' })
      .filter((r) => r.status === 200).length;

    env.sap.core.faults.setOutage(true);
    const sent: Awaited<ReturnType<typeof send>>[] = [];
    try {
      for (let i = 1; i <= 4; i++) sent.push(await opportunityUpdated(opportunityId, { Quantity__c: i + 2 }));
      await waitFor('SAP calls failing during the outage', async () => {
        const d = await t.client.workflow.getHandle(sent[0]!.workflowId).describe();
        return (d.raw.pendingActivities ?? []).some((a) => (a.attempt ?? 0) >= 2);
      });
    } finally {
      env.sap.core.faults.setOutage(false);
    }
    const last = sent.at(-1)!;
    await outcomeOf(last.workflowId, last.event.eventId);
    const s = await state(last.workflowId);
    expect(sent.map((x) => s.recent.find((r) => r.eventId === x.event.eventId)?.outcome)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
    ]);
    const after = env.sap.core.requests
      .list({ operation: 'BAPI_SALESORDER_CHANGE' })
      .filter((r) => r.status === 200).length;
    expect(after - before).toBe(4);
    expect(env.sap.order(vbeln)!.items[0]!.KWMENG).toBe(6);
  }, 90_000);

  it('continues as new before the history grows, keeping state and deduplication', async () => {
    const { opportunityId } = wonOpportunity('Long');
    const extra = { maxEventsPerRun: 3 };
    const won = await send(
      {
        source: 'salesforce',
        kind: 'opportunity.updated',
        recordId: opportunityId,
        fields: { StageName: 'Closed Won' },
        changedFields: ['StageName'],
      },
      extra,
    );
    const sent = [won];
    for (let i = 1; i <= 6; i++) {
      sent.push(
        await send(
          {
            source: 'salesforce',
            kind: 'opportunity.updated',
            recordId: opportunityId,
            fields: { CloseDate: `2026-09-0${i}` },
            changedFields: ['CloseDate'],
          },
          extra,
        ),
      );
    }
    const last = sent.at(-1)!;
    await outcomeOf(last.workflowId, last.event.eventId);
    const s = await state(last.workflowId);
    expect(s.appliedCount).toBe(7);
    expect(s.runEvents).toBeLessThan(7);
    expect(s.links.sapOrderNumber).toMatch(/^\d{10}$/);
    const runs = [];
    for await (const wf of t.client.workflow.list({ query: `WorkflowId = '${last.workflowId}'` }))
      runs.push(wf.status.name);
    expect(runs.filter((r) => r === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
    // The link travels with continue-as-new: the latest run has it without setting it again.
    const latest = await t.client.workflow.getHandle(last.workflowId).describe();
    expect(latest.typedSearchAttributes.get(SalesforceId)).toBe(opportunityId);
    expect(await salesforceIdUpserts(last.workflowId)).toBe(0);

    const redelivered = await send({ ...won.event, eventId: won.event.eventId });
    await waitFor('the duplicate after continue-as-new', async () =>
      (await state(redelivered.workflowId)).recent.some(
        (r) => r.eventId === won.event.eventId && r.outcome === 'duplicate',
      ),
    );
    expect(env.sap.orders().filter((o) => o.BSTKD === opportunityId)).toHaveLength(1);
  });

  it('a record whose workflow closed when idle remembers, when it starts again, what it applied', async () => {
    const { opportunityId } = wonOpportunity('Idle');
    const idle = { idleTimeout: '1s' };
    const won = await send(
      {
        source: 'salesforce',
        kind: 'opportunity.updated',
        recordId: opportunityId,
        fields: { StageName: 'Closed Won' },
        changedFields: ['StageName'],
      },
      idle,
    );
    await outcomeOf(won.workflowId, won.event.eventId);
    const later = await send(
      {
        source: 'salesforce',
        kind: 'opportunity.updated',
        recordId: opportunityId,
        fields: { Quantity__c: 9 },
        changedFields: ['Quantity__c'],
      },
      idle,
    );
    await outcomeOf(later.workflowId, later.event.eventId);
    const vbeln = env.salesforce.record('Opportunity', opportunityId)!.SAP_Order_Number__c as string;
    expect(env.sap.order(vbeln)!.items[0]!.KWMENG).toBe(9);
    await waitFor(
      'the idle close',
      async () => (await t.client.workflow.getHandle(won.workflowId).describe()).status.name === 'COMPLETED',
    );
    // Closed a full idle timeout after its last event, whatever the timer was set for before it.
    const closedRun = (await t.client.workflow.getHandle(won.workflowId).fetchHistory()).events ?? [];
    const lastSignalAt = closedRun
      .filter((e) => e.workflowExecutionSignaledEventAttributes)
      .at(-1)!.eventTime!;
    const completedAt = closedRun.at(-1)!.eventTime!;
    const ms = (ts: typeof completedAt) => Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
    expect(ms(completedAt) - ms(lastSignalAt)).toBeGreaterThanOrEqual(1000);

    // The source redelivers the first change (its 200 was lost): a new run starts and must not re-apply it.
    const redelivered = await send({ ...won.event, eventId: won.event.eventId }, idle);
    await waitFor('the redelivery to be recognised in the new run', async () =>
      (await state(redelivered.workflowId)).recent.some(
        (r) => r.eventId === won.event.eventId && r.outcome === 'duplicate',
      ),
    );
    // An older change of a shared field, delivered late, still loses to the applied one.
    const older = await send(
      {
        source: 'salesforce',
        kind: 'opportunity.updated',
        recordId: opportunityId,
        occurredAt: '2000-01-01T00:00:00Z',
        fields: { Quantity__c: 3 },
        changedFields: ['Quantity__c'],
      },
      idle,
    );
    expect(await outcomeOf(older.workflowId, older.event.eventId)).toMatchObject({ outcome: 'stale' });
    expect(env.sap.order(vbeln)!.items[0]!.KWMENG).toBe(9);
    expect(env.sap.orders().filter((o) => o.BSTKD === opportunityId)).toHaveLength(1);
  });

  it('a stock change updates the open Opportunities for the SKU, and an older version is stale', async () => {
    const sku = 'MAT-3000';
    const { opportunityId } = wonOpportunity('Stock', {
      StageName: 'Negotiation/Review',
      SAP_Material__c: sku,
    });
    const v = Date.now();
    const change = await send({
      source: 'inventory',
      kind: 'inventory.stock_changed',
      recordId: sku,
      origin: 'warehouse',
      fields: { sku, warehouse: '1000', quantity: 77, previousQuantity: 0, version: v },
    });
    expect(await outcomeOf(change.workflowId, change.event.eventId)).toMatchObject({ outcome: 'applied' });
    expect(env.salesforce.record('Opportunity', opportunityId)!.Stock_Available__c).toBe(77);
    const old = await send({
      source: 'inventory',
      kind: 'inventory.stock_changed',
      recordId: sku,
      origin: 'warehouse',
      fields: { sku, quantity: 5, version: v - 1 },
    });
    expect(await outcomeOf(old.workflowId, old.event.eventId)).toMatchObject({ outcome: 'stale' });
    expect(env.salesforce.record('Opportunity', opportunityId)!.Stock_Available__c).toBe(77);
    await env.webhooks.waitFor((d) => d.type === 'inventory.changed' && (d.body as any).data.quantity === 77);
  });
});
