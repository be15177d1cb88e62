import { WorkflowNotFoundError } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventorySimulator } from '../../src/simulators/inventory';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { EntityEvent } from '../../src/workflows/entity-sync.messages';
import { BusinessKey, IntegrationFlow } from '../../src/workflows/shared/search-attributes';
import { startApi } from '../support/api';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * The webhook ingress over HTTP against the suite's real Temporal server. No worker polls this file's
 * task queue: signal-with-start creates the entity workflow (with the signal in its history) whether or
 * not a worker runs it, which is exactly the ingress's job. Requests are signed with the
 * `standardwebhooks` package, an implementation independent of the verifier under test.
 */

const secretOf = () => `whsec_${randomBytes(24).toString('base64')}`;
const secrets = { salesforce: secretOf(), sap: secretOf(), inventory: secretOf() };
type Source = keyof typeof secrets;

/** Unique per run, so workflow ids never collide with another test file's or an earlier run's. */
const tag = randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase();
let counter = 0;
const nextSku = () => `WH-${tag}-${++counter}`;
/** An 18-character Salesforce id with the given key prefix, unique per call. */
const sfId = (prefix: '001' | '006') => `${prefix}Dn${tag}${String(++counter).padStart(5, '0')}`;

function stockEvent(sku: string, quantity = 95) {
  return {
    type: 'inventory.stock_changed',
    timestamp: new Date().toISOString(),
    data: {
      sku,
      warehouse: '1000',
      quantity,
      previousQuantity: 100,
      version: 3,
      changedAt: '2026-11-25T10:00:00.000Z',
      source: 'warehouse',
    },
  };
}

function orderEvent(vbeln: string) {
  return {
    type: 'sap.salesorder.changed',
    timestamp: new Date().toISOString(),
    data: {
      SALESDOCUMENT: vbeln,
      CUSTOMER: '0000100001',
      PURCH_NO_C: 'PO-4711',
      NET_VALUE: 3395,
      CURRENCY: 'EUR',
      DOC_TYPE: 'TA',
      SALES_ORG: '1000',
      REQ_DATE_H: '2026-12-01',
      CHANGED_AT: '2026-11-25T10:00:00.000Z',
      CHANGED_BY: 'MMUSTERMANN',
      CHANGED_FIELDS: ['REQ_DATE_H'],
      items: [{ ITM_NUMBER: '000010', MATERIAL: 'MAT-1000', REQ_QTY: 2, SALES_UNIT: 'ST' }],
    },
  };
}

function changeEvent(
  entityName: string,
  changeType: string,
  recordId: string,
  fields: Record<string, unknown>,
) {
  return {
    type: 'salesforce.change',
    timestamp: new Date().toISOString(),
    data: {
      schema: 'IeRuaY6cbI_HsV8Rv1Mc5g',
      channel: `/data/${entityName}ChangeEvent`,
      payload: {
        ChangeEventHeader: {
          entityName,
          recordIds: [recordId],
          changeType,
          changeOrigin: 'com/salesforce/api/rest/62.0',
          transactionKey: randomUUID(),
          sequenceNumber: 1,
          commitTimestamp: Date.parse('2026-11-25T10:00:00.000Z'),
          commitNumber: 1,
          commitUser: '005Dn0000002XyZIAU',
          changedFields: changeType === 'UPDATE' ? Object.keys(fields) : [],
          nulledFields: [],
          diffFields: [],
        },
        ...fields,
      },
      event: { replayId: 1 },
    },
  };
}

/** Every field any answer of the ingress may carry. */
interface IngressAnswer {
  received?: boolean;
  events?: { eventId: string; workflowId: string }[];
  ignored?: string;
  error?: string;
  message?: string;
}

interface SignOptions {
  secret?: string;
  id?: string;
  at?: Date;
  /** Replaces the signature header (tampering, rotation). */
  signature?: (valid: string) => string;
  omit?: 'webhook-id' | 'webhook-timestamp' | 'webhook-signature';
}

function signedHeaders(source: Source, body: string, opts: SignOptions = {}): Record<string, string> {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const at = opts.at ?? new Date();
  const valid = new Webhook(opts.secret ?? secrets[source]).sign(id, at, body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': opts.signature ? opts.signature(valid) : valid,
  };
  if (opts.omit) delete headers[opts.omit];
  return headers;
}

describe('webhook ingress: verified source events become signals to entity workflows', () => {
  let t: TemporalTestContext;
  let api: Awaited<ReturnType<typeof startApi>>;
  const prefix = uniquePrefix('webhooks');
  const touched = new Set<string>();

  beforeAll(async () => {
    t = await connectTemporal();
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      webhooks: {
        secrets,
        ownership: { amount: 'sap', stage: 'salesforce' },
        idleTimeout: '10m',
      },
    });
  });
  afterAll(async () => {
    // Nobody runs these workflows; end them so the shared server does not keep them open.
    await Promise.allSettled(
      [...touched].map((id) => t.client.workflow.getHandle(id).terminate('webhooks.test.ts cleanup')),
    );
    await api?.close();
    await t?.close();
  });

  const post = async (source: Source, payload: unknown, opts: SignOptions = {}) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const headers = signedHeaders(source, body, opts);
    const res = await fetch(`${api.baseUrl}/webhooks/${source}`, { method: 'POST', headers, body });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as IngressAnswer) : undefined;
    for (const e of json?.events ?? []) touched.add(e.workflowId);
    return { status: res.status, body: json, webhookId: headers['webhook-id'] };
  };

  const decodePayloads = (payloads: Parameters<typeof decodeArrayFromPayloads>[1]) =>
    decodeArrayFromPayloads(t.client.options.loadedDataConverter, payloads);

  /** The EntityEvents the workflow received, decoded from its history. */
  const signalsOf = async (workflowId: string): Promise<EntityEvent[]> => {
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    const signals = (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a?.signalName === 'entityEvent');
    // History payloads are encrypted: decoded with the client's codec, as an operator's tools do.
    return Promise.all(
      signals.map(async (a) => (await decodePayloads(a!.input!.payloads))[0] as EntityEvent),
    );
  };

  const expectNoWorkflow = async (workflowId: string) => {
    await expect(t.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  };

  it('an inventory stock change starts inventory:<sku> on the coordinator queue with the event as its signal', async () => {
    const sku = nextSku();
    const res = await post('inventory', stockEvent(sku));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      received: true,
      events: [{ eventId: res.webhookId, workflowId: `inventory:${sku}` }],
    });

    const described = await t.client.workflow.getHandle(`inventory:${sku}`).describe();
    expect(described.type).toBe('inventorySync');
    expect(described.taskQueue).toBe(`${prefix}.coordinator`);
    expect(described.typedSearchAttributes.get(IntegrationFlow)).toBe('event-sync');
    expect(described.typedSearchAttributes.get(BusinessKey)).toBe(sku);

    const history = await t.client.workflow.getHandle(`inventory:${sku}`).fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    expect((await decodePayloads(started.input!.payloads))[0]).toEqual({
      route: { workflowType: 'inventorySync', workflowId: `inventory:${sku}`, businessKey: sku },
      ownership: { amount: 'sap', stage: 'salesforce' },
      idleTimeout: '10m',
      temporalUiUrl: 'http://127.0.0.1:8233',
    });
    expect(await signalsOf(`inventory:${sku}`)).toEqual([
      {
        eventId: res.webhookId,
        source: 'inventory',
        kind: 'inventory.stock_changed',
        recordId: sku,
        occurredAt: '2026-11-25T10:00:00.000Z',
        origin: 'warehouse',
        fields: stockEvent(sku).data,
        receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
  });

  it('an SAP order change without an Opportunity id goes to order:sap-<VBELN>', async () => {
    const vbeln = String(Date.now() % 1e10).padStart(10, '0');
    const res = await post('sap', orderEvent(vbeln));
    expect(res.status).toBe(200);
    expect(res.body?.events).toEqual([{ eventId: res.webhookId, workflowId: `order:sap-${vbeln}` }]);
    const described = await t.client.workflow.getHandle(`order:sap-${vbeln}`).describe();
    expect(described.type).toBe('orderSync');
    expect(described.typedSearchAttributes.get(BusinessKey)).toBe(vbeln);
    expect(await signalsOf(`order:sap-${vbeln}`)).toEqual([
      expect.objectContaining({
        eventId: res.webhookId,
        source: 'sap',
        kind: 'sap.salesorder.changed',
        recordId: vbeln,
        origin: 'MMUSTERMANN',
        changedFields: ['REQ_DATE_H'],
      }),
    ]);
  });

  it('a Salesforce Account CREATE starts account:<id>; an Opportunity UPDATE signals order:<id>', async () => {
    const accountId = sfId('001');
    const created = await post(
      'salesforce',
      changeEvent('Account', 'CREATE', accountId, { Name: 'Engines' }),
    );
    expect(created.status).toBe(200);
    expect(created.body?.events).toEqual([
      { eventId: created.webhookId, workflowId: `account:${accountId}` },
    ]);
    expect((await t.client.workflow.getHandle(`account:${accountId}`).describe()).type).toBe('accountSync');
    expect(await signalsOf(`account:${accountId}`)).toEqual([
      expect.objectContaining({ kind: 'account.created', recordId: accountId, fields: { Name: 'Engines' } }),
    ]);

    const opportunityId = sfId('006');
    const updated = await post(
      'salesforce',
      changeEvent('Opportunity', 'UPDATE', opportunityId, { StageName: 'Closed Won' }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body?.events).toEqual([
      { eventId: updated.webhookId, workflowId: `order:${opportunityId}` },
    ]);
    expect(await signalsOf(`order:${opportunityId}`)).toEqual([
      expect.objectContaining({
        kind: 'opportunity.updated',
        changedFields: ['StageName'],
        occurredAt: '2026-11-25T10:00:00.000Z',
      }),
    ]);
  });

  it("the seed's simple opportunity.updated shape is accepted the same way", async () => {
    const opportunityId = sfId('006');
    const res = await post('salesforce', {
      type: 'opportunity.updated',
      data: { id: opportunityId, StageName: 'Negotiation', LastModifiedDate: '2026-11-25T11:00:00Z' },
    });
    expect(res.status).toBe(200);
    expect(await signalsOf(`order:${opportunityId}`)).toEqual([
      expect.objectContaining({ kind: 'opportunity.updated', occurredAt: '2026-11-25T11:00:00.000Z' }),
    ]);
  });

  it('a redelivery (same webhook-id) is answered 200 and signalled again with the same eventId', async () => {
    const sku = nextSku();
    const id = `msg_${randomUUID()}`;
    const first = await post('inventory', stockEvent(sku), { id });
    const again = await post('inventory', stockEvent(sku), { id });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.body).toEqual(first.body);
    const signals = await signalsOf(`inventory:${sku}`);
    expect(signals.map((s) => s.eventId)).toEqual([id, id]);
  });

  it('a sender rotating its secret signs twice; the request passes when the second signature is ours', async () => {
    const sku = nextSku();
    const res = await post('inventory', stockEvent(sku), {
      signature: (valid) => `${new Webhook(secretOf()).sign('x', new Date(), 'y')} ${valid}`,
    });
    expect(res.status).toBe(200);
    await t.client.workflow.getHandle(`inventory:${sku}`).describe();
  });

  describe('rejected requests start and signal nothing', () => {
    const cases: [
      string,
      number,
      string,
      (sku: string) => Promise<{ status: number; body?: IngressAnswer }>,
    ][] = [
      [
        'a wrong signature',
        401,
        'invalid_signature',
        (sku) =>
          post('inventory', stockEvent(sku), { signature: () => `v1,${randomBytes(32).toString('base64')}` }),
      ],
      [
        'a valid signature with junk appended',
        401,
        'invalid_signature',
        (sku) => post('inventory', stockEvent(sku), { signature: (valid) => `${valid}!!` }),
      ],
      [
        'no webhook-signature header',
        401,
        'missing_signature',
        (sku) => post('inventory', stockEvent(sku), { omit: 'webhook-signature' }),
      ],
      [
        'no webhook-id header',
        401,
        'missing_signature',
        (sku) => post('inventory', stockEvent(sku), { omit: 'webhook-id' }),
      ],
      [
        'no webhook-timestamp header',
        401,
        'missing_signature',
        (sku) => post('inventory', stockEvent(sku), { omit: 'webhook-timestamp' }),
      ],
      [
        'the SAP secret on the inventory route',
        401,
        'invalid_signature',
        (sku) => post('inventory', stockEvent(sku), { secret: secrets.sap }),
      ],
      [
        'a timestamp 6 minutes old (validly signed)',
        400,
        'stale_timestamp',
        (sku) => post('inventory', stockEvent(sku), { at: new Date(Date.now() - 6 * 60_000) }),
      ],
      [
        'a timestamp 6 minutes ahead (validly signed)',
        400,
        'stale_timestamp',
        (sku) => post('inventory', stockEvent(sku), { at: new Date(Date.now() + 6 * 60_000) }),
      ],
      [
        'missing required fields',
        400,
        'invalid_event',
        (sku) => {
          const { quantity: _q, ...data } = stockEvent(sku).data;
          return post('inventory', { type: 'inventory.stock_changed', data });
        },
      ],
      [
        'an unknown type',
        400,
        'invalid_event',
        (sku) => post('inventory', { ...stockEvent(sku), type: 'inventory.stock_deleted' }),
      ],
    ];

    it.each(cases)('%s -> %i %s', async (_what, status, error, send) => {
      const sku = nextSku();
      const res = await send(sku);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error, message: expect.any(String) });
      await expectNoWorkflow(`inventory:${sku}`);
    });

    it('a body changed after signing -> 401', async () => {
      const sku = nextSku();
      const body = JSON.stringify(stockEvent(sku, 5));
      const headers = signedHeaders('inventory', body);
      const res = await fetch(`${api.baseUrl}/webhooks/inventory`, {
        method: 'POST',
        headers,
        body: body.replace('"quantity":5', '"quantity":500'),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_signature' });
      await expectNoWorkflow(`inventory:${sku}`);
    });

    it('JSON that is not parseable (but signed) -> 400 invalid_event naming the problem', async () => {
      const res = await post('inventory', '{"type": "inventory.stock_changed", "data": {');
      expect(res.status).toBe(400);
      expect(res.body?.error).toBe('invalid_event');
      expect(res.body?.message).toMatch(/^the body is not valid JSON/);
    });

    it('wrongly typed fields -> 400 with each field named', async () => {
      const sku = nextSku();
      const res = await post('inventory', {
        type: 'inventory.stock_changed',
        data: { ...stockEvent(sku).data, quantity: '95', version: 0 },
      });
      expect(res.status).toBe(400);
      expect(res.body?.message).toMatch(/quantity: .*expected number/);
      expect(res.body?.message).toMatch(/version: /);
      await expectNoWorkflow(`inventory:${sku}`);
    });

    it('an SAP order without SALESDOCUMENT -> 400, and no order workflow', async () => {
      const vbeln = `9${String(Date.now() % 1e9).padStart(9, '0')}`;
      const event = orderEvent(vbeln);
      const res = await post('sap', { ...event, data: { ...event.data, SALESDOCUMENT: undefined } });
      expect(res.status).toBe(400);
      expect(res.body?.message).toMatch(/SALESDOCUMENT: /);
      await expectNoWorkflow(`order:sap-${vbeln}`);
    });

    it('a Salesforce change for an object nobody subscribed to -> 200 ignored, and no workflow', async () => {
      const contactId = `003Dn${tag}99999`;
      const res = await post('salesforce', changeEvent('Contact', 'UPDATE', contactId, { Phone: '1' }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true, ignored: 'Contact UPDATE events are not subscribed' });
      const account = sfId('001');
      const deleted = await post('salesforce', changeEvent('Account', 'DELETE', account, {}));
      expect(deleted.body).toEqual({ received: true, ignored: 'Account DELETE events are not subscribed' });
      await expectNoWorkflow(`account:${account}`);
    });

    it('the bearer-token API is unaffected: /v1 still parses JSON and wants its token', async () => {
      const res = await fetch(`${api.baseUrl}/v1/runs/anything`);
      expect(res.status).toBe(401);
      const withToken = await api.call('POST', '/v1/connectivity-checks', { targets: 'nope' });
      expect(withToken.status).toBe(400);
    });
  });

  describe("the real simulators' signed events are accepted end to end", () => {
    it('an inventory simulator stock change arrives as inventory:<sku> with the simulator webhook-id', async () => {
      const sim = createInventorySimulator({
        events: { url: `${api.baseUrl}/webhooks/inventory`, secret: secrets.inventory },
      });
      const sku = nextSku();
      try {
        sim.setStock(sku, 7);
        await sim.events.drain();
        const [delivery] = sim.deliveries();
        expect(delivery).toMatchObject({ status: 200, attempts: 1 });
        touched.add(`inventory:${sku}`);
        const signals = await waitFor(`inventory:${sku} to have its signal`, async () => {
          const s = await signalsOf(`inventory:${sku}`);
          return s.length ? s : undefined;
        });
        expect(signals).toEqual([
          expect.objectContaining({
            eventId: delivery!.id,
            recordId: sku,
            origin: 'warehouse',
            fields: expect.objectContaining({ quantity: 7, previousQuantity: null, version: 1 }),
          }),
        ]);
      } finally {
        await sim.events.drain();
      }
    });

    it('a Salesforce simulator Opportunity change (a UI edit) arrives as opportunity.updated on order:<id>', async () => {
      const sim = createSalesforceSimulator({
        events: { url: `${api.baseUrl}/webhooks/salesforce`, secret: secrets.salesforce },
      });
      const [opportunityId] = sim.seed('Opportunity', {
        Name: 'Pumps',
        StageName: 'Prospecting',
        CloseDate: '2026-12-31',
      });
      sim.uiUpdate('Opportunity', opportunityId!, { StageName: 'Closed Won' });
      await sim.drainEvents();
      const [delivery] = sim.events.list();
      expect(delivery).toMatchObject({ status: 200, attempts: 1 });
      touched.add(`order:${opportunityId}`);
      const [signal] = await signalsOf(`order:${opportunityId}`);
      expect(signal).toMatchObject({
        eventId: delivery!.id,
        kind: 'opportunity.updated',
        recordId: opportunityId,
        origin: '',
        fields: expect.objectContaining({ StageName: 'Closed Won' }),
        changedFields: expect.arrayContaining(['StageName']),
      });
    });
  });
});
