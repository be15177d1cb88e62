import { describe, expect, it } from 'vitest';
import {
  parseInventoryEvent,
  parseSalesforceEvent,
  parseSapEvent,
  SourceEventError,
} from '../../src/domain/source-events';
import { routeEntityEvent } from '../../src/domain/entity-event';

const receivedAt = '2026-11-25T10:00:01.000Z';
const accountId = '001Dn00000AbCdEIAV';
const opportunityId = '006Dn00000XyZaBIAV';

/** A CDC event as the Salesforce simulator sends it (docs/simulators/salesforce.md). */
function cdc(
  entityName: string,
  changeType: string,
  recordIds: string[],
  fields: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) {
  return {
    type: 'salesforce.change',
    timestamp: '2026-11-25T10:00:00.100Z',
    data: {
      schema: 'IeRuaY6cbI_HsV8Rv1Mc5g',
      channel: `/data/${entityName}ChangeEvent`,
      payload: {
        ChangeEventHeader: {
          entityName,
          recordIds,
          changeType,
          changeOrigin: 'com/salesforce/api/rest/62.0;client=integration-coordinator',
          transactionKey: '0b6a4f6e-6f3e-4d7e-9d55-3c1b8a3f0a11',
          sequenceNumber: 1,
          commitTimestamp: 1764064800000,
          commitNumber: 10716283339729,
          commitUser: '005Dn0000002XyZIAU',
          changedFields: changeType === 'UPDATE' ? Object.keys(fields) : [],
          nulledFields: [],
          diffFields: [],
          ...header,
        },
        ...fields,
      },
      event: { replayId: 7 },
    },
  };
}

function sapOrder(type = 'sap.salesorder.changed', overrides: Record<string, unknown> = {}) {
  return {
    type,
    timestamp: '2026-11-25T10:00:00.200Z',
    data: {
      SALESDOCUMENT: '0000004970',
      CUSTOMER: '0000100001',
      PURCH_NO_C: opportunityId,
      NET_VALUE: 3395,
      CURRENCY: 'EUR',
      DOC_TYPE: 'TA',
      SALES_ORG: '1000',
      REQ_DATE_H: '2026-12-01',
      CHANGED_AT: '2026-11-25T10:00:00.000Z',
      CHANGED_BY: 'MMUSTERMANN',
      CHANGED_FIELDS: ['REQ_DATE_H'],
      items: [
        {
          ITM_NUMBER: '000010',
          MATERIAL: 'MAT-1000',
          SHORT_TEXT: 'Industrial pump P-100',
          REQ_QTY: 2,
          SALES_UNIT: 'ST',
          NET_VALUE: 2500,
          PLANT: '1000',
        },
      ],
      ...overrides,
    },
  };
}

function stockChanged(overrides: Record<string, unknown> = {}) {
  return {
    type: 'inventory.stock_changed',
    timestamp: '2026-11-25T10:00:00.300Z',
    data: {
      sku: 'MAT-1000',
      warehouse: '1000',
      quantity: 95,
      previousQuantity: 100,
      version: 3,
      changedAt: '2026-11-25T10:00:00.000Z',
      source: 'warehouse',
      ...overrides,
    },
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SourceEventError);
    return (err as Error).message;
  }
  throw new Error('expected the parser to reject the event');
}

describe('Salesforce change events', () => {
  it('an Account CREATE becomes one account.created event carrying the record fields, origin and commit time', () => {
    const body = cdc('Account', 'CREATE', [accountId], { Name: 'Engines Ltd', BillingCountry: 'GB' });
    expect(parseSalesforceEvent(body, 'sfcdc_org_7', receivedAt)).toEqual({
      events: [
        {
          eventId: 'sfcdc_org_7',
          source: 'salesforce',
          kind: 'account.created',
          recordId: accountId,
          occurredAt: '2025-11-25T10:00:00.000Z',
          origin: 'com/salesforce/api/rest/62.0;client=integration-coordinator',
          fields: { Name: 'Engines Ltd', BillingCountry: 'GB' },
          changedFields: [],
          receivedAt,
        },
      ],
    });
  });

  it('an Opportunity UPDATE becomes opportunity.updated with changedFields, routed to the order workflow', () => {
    const body = cdc('Opportunity', 'UPDATE', [opportunityId], {
      StageName: 'Closed Won',
      LastModifiedDate: '2025-11-25T10:00:00.000Z',
    });
    const parsed = parseSalesforceEvent(body, 'sfcdc_org_8', receivedAt);
    expect('events' in parsed && parsed.events).toEqual([
      expect.objectContaining({
        kind: 'opportunity.updated',
        recordId: opportunityId,
        fields: { StageName: 'Closed Won', LastModifiedDate: '2025-11-25T10:00:00.000Z' },
        changedFields: ['StageName', 'LastModifiedDate'],
      }),
    ]);
    const [event] = 'events' in parsed ? parsed.events : [];
    expect(routeEntityEvent(event!)).toEqual({
      workflowType: 'orderSync',
      workflowId: `order:${opportunityId}`,
      businessKey: opportunityId,
    });
  });

  it('an event about several records becomes one event per record with ids <webhook-id>:<i>', () => {
    const second = '006Dn00000XyZaCIAV';
    const parsed = parseSalesforceEvent(
      cdc('Opportunity', 'UPDATE', [opportunityId, second], { StageName: 'Prospecting' }),
      'sfcdc_org_9',
      receivedAt,
    );
    expect('events' in parsed && parsed.events.map((e) => [e.eventId, e.recordId])).toEqual([
      ['sfcdc_org_9:0', opportunityId],
      ['sfcdc_org_9:1', second],
    ]);
  });

  it('events nobody subscribed to (other objects, other change types) are ignored with the reason', () => {
    expect(parseSalesforceEvent(cdc('Contact', 'UPDATE', ['003Dn00000AbCdEIAV']), 'e1', receivedAt)).toEqual({
      ignored: 'Contact UPDATE events are not subscribed',
    });
    expect(parseSalesforceEvent(cdc('Account', 'DELETE', [accountId]), 'e2', receivedAt)).toEqual({
      ignored: 'Account DELETE events are not subscribed',
    });
    // Gap / overflow events carry wildcard record ids; ignoring must not trip over them.
    expect(
      parseSalesforceEvent(cdc('Account', 'GAP_OVERFLOW', ['001Dn00000AbC***']), 'e3', receivedAt),
    ).toEqual({ ignored: 'Account GAP_OVERFLOW events are not subscribed' });
  });

  it("accepts the seed's simple account.created shape: id plus fields, time from CreatedDate", () => {
    const parsed = parseSalesforceEvent(
      {
        type: 'account.created',
        data: { id: accountId, Name: 'Engines Ltd', CreatedDate: '2025-11-25T09:00:00+01:00' },
      },
      'seed-1',
      receivedAt,
    );
    expect(parsed).toEqual({
      events: [
        {
          eventId: 'seed-1',
          source: 'salesforce',
          kind: 'account.created',
          recordId: accountId,
          occurredAt: '2025-11-25T08:00:00.000Z',
          fields: { Name: 'Engines Ltd', CreatedDate: '2025-11-25T09:00:00+01:00' },
          receivedAt,
        },
      ],
    });
  });

  it("accepts the seed's simple opportunity.updated shape and requires its LastModifiedDate", () => {
    const parsed = parseSalesforceEvent(
      {
        type: 'opportunity.updated',
        data: { id: opportunityId, StageName: 'Negotiation', LastModifiedDate: '2025-11-25T10:00:00Z' },
      },
      'seed-2',
      receivedAt,
    );
    expect('events' in parsed && parsed.events[0]).toMatchObject({
      kind: 'opportunity.updated',
      recordId: opportunityId,
      occurredAt: '2025-11-25T10:00:00.000Z',
      fields: { StageName: 'Negotiation', LastModifiedDate: '2025-11-25T10:00:00Z' },
    });
    expect(
      reasonOf(() =>
        parseSalesforceEvent(
          { type: 'opportunity.updated', data: { id: opportunityId, StageName: 'x' } },
          'seed-3',
          receivedAt,
        ),
      ),
    ).toMatch(/^invalid opportunity\.updated data: LastModifiedDate: /);
  });

  it('a change event without ChangeEventHeader is rejected naming the missing path', () => {
    const body = cdc('Account', 'CREATE', [accountId]);
    delete (body.data.payload as Partial<typeof body.data.payload>).ChangeEventHeader;
    expect(reasonOf(() => parseSalesforceEvent(body, 'e', receivedAt))).toMatch(
      /^invalid Salesforce change event: payload\.ChangeEventHeader: /,
    );
  });

  it('a commitTimestamp that is not epoch milliseconds is rejected', () => {
    const body = cdc('Account', 'CREATE', [accountId], {}, { commitTimestamp: '2025-11-25T10:00:00Z' });
    expect(reasonOf(() => parseSalesforceEvent(body, 'e', receivedAt))).toMatch(
      /payload\.ChangeEventHeader\.commitTimestamp: .*expected number/,
    );
  });

  it('wrongly typed header fields are each named in the reason', () => {
    const body = cdc('Account', 'CREATE', [accountId], {}, { recordIds: accountId, changedFields: 'Name' });
    const reason = reasonOf(() => parseSalesforceEvent(body, 'e', receivedAt));
    expect(reason).toMatch(/payload\.ChangeEventHeader\.recordIds: .*expected array/);
    expect(reason).toMatch(/payload\.ChangeEventHeader\.changedFields: .*expected array/);
  });

  it('a record id of the wrong object or an empty recordIds list is rejected', () => {
    expect(
      reasonOf(() => parseSalesforceEvent(cdc('Account', 'CREATE', [opportunityId]), 'e', receivedAt)),
    ).toContain(`"${opportunityId}" is not an Account id (001…)`);
    expect(reasonOf(() => parseSalesforceEvent(cdc('Account', 'CREATE', []), 'e', receivedAt))).toContain(
      'recordIds is empty',
    );
  });

  it('an unknown type is rejected naming the types this route accepts', () => {
    expect(reasonOf(() => parseSalesforceEvent({ type: 'contact.deleted', data: {} }, 'e', receivedAt))).toBe(
      'unknown Salesforce event type "contact.deleted" (expected salesforce.change, account.created or opportunity.updated)',
    );
  });

  it('a body that is not an envelope is rejected', () => {
    expect(reasonOf(() => parseSalesforceEvent([1, 2], 'e', receivedAt))).toMatch(
      /^invalid event envelope: /,
    );
    expect(reasonOf(() => parseSalesforceEvent({ type: 'salesforce.change' }, 'e', receivedAt))).toMatch(
      /data: /,
    );
  });
});

describe('SAP sales-order events', () => {
  it('a changed order maps BAPI fields: VBELN as record, CHANGED_BY as origin, CHANGED_FIELDS', () => {
    const body = sapOrder();
    expect(parseSapEvent(body, 'evt_1', receivedAt)).toEqual({
      events: [
        {
          eventId: 'evt_1',
          source: 'sap',
          kind: 'sap.salesorder.changed',
          recordId: '0000004970',
          occurredAt: '2026-11-25T10:00:00.000Z',
          origin: 'MMUSTERMANN',
          fields: body.data,
          changedFields: ['REQ_DATE_H'],
          receivedAt,
        },
      ],
    });
  });

  it('a created order without CHANGED_FIELDS and with unknown extra fields is accepted', () => {
    const body = sapOrder('sap.salesorder.created', { CHANGED_FIELDS: undefined, ZZ_CUSTOM: 'x' });
    const parsed = parseSapEvent(JSON.parse(JSON.stringify(body)), 'evt_2', receivedAt);
    expect('events' in parsed && parsed.events[0]).toMatchObject({
      kind: 'sap.salesorder.created',
      fields: expect.objectContaining({ ZZ_CUSTOM: 'x' }),
    });
    expect('events' in parsed && 'changedFields' in parsed.events[0]!).toBe(false);
  });

  it('missing and mistyped required fields are named', () => {
    const reason = reasonOf(() =>
      parseSapEvent(
        sapOrder('sap.salesorder.changed', { SALESDOCUMENT: undefined, NET_VALUE: '3395' }),
        'e',
        receivedAt,
      ),
    );
    expect(reason).toMatch(/^invalid sap\.salesorder\.changed data: /);
    expect(reason).toMatch(/SALESDOCUMENT: /);
    expect(reason).toMatch(/NET_VALUE: .*expected number/);
  });

  it('a CHANGED_AT that is not an ISO date-time is rejected', () => {
    expect(
      reasonOf(() =>
        parseSapEvent(sapOrder('sap.salesorder.changed', { CHANGED_AT: '20261125100000' }), 'e', receivedAt),
      ),
    ).toMatch(/CHANGED_AT: /);
  });

  it("another source's type is an unknown type here", () => {
    expect(reasonOf(() => parseSapEvent(stockChanged(), 'e', receivedAt))).toBe(
      'unknown SAP event type "inventory.stock_changed" (expected sap.salesorder.created or sap.salesorder.changed)',
    );
  });
});

describe('inventory stock changes', () => {
  it('maps sku, changedAt and source; previousQuantity null (a new SKU) is valid', () => {
    const body = stockChanged({ previousQuantity: null, source: 'api' });
    expect(parseInventoryEvent(body, 'evt_3', receivedAt)).toEqual({
      events: [
        {
          eventId: 'evt_3',
          source: 'inventory',
          kind: 'inventory.stock_changed',
          recordId: 'MAT-1000',
          occurredAt: '2026-11-25T10:00:00.000Z',
          origin: 'api',
          fields: body.data,
          receivedAt,
        },
      ],
    });
  });

  it('a negative or fractional quantity, or a missing sku, is rejected with each reason', () => {
    const reason = reasonOf(() =>
      parseInventoryEvent(stockChanged({ quantity: -1, version: 1.5, sku: undefined }), 'e', receivedAt),
    );
    expect(reason).toMatch(/sku: /);
    expect(reason).toMatch(/quantity: /);
    expect(reason).toMatch(/version: /);
  });

  it('a bad changedAt is rejected', () => {
    expect(
      reasonOf(() => parseInventoryEvent(stockChanged({ changedAt: 'yesterday' }), 'e', receivedAt)),
    ).toMatch(/changedAt: /);
  });
});
