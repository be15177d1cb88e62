import { describe, expect, it } from 'vitest';
import {
  bitmapPositions,
  decodeChangeEvent,
  decodeFieldBitmaps,
  entityEventsOf,
} from '../../src/domain/change-events';
import type { AvroRecordSchema } from '../../src/domain/change-events';

/**
 * Bitmap decoding against a payload in the real format. Sources of each fact:
 * - field order of AccountChangeEvent (header first, then Name, Type, ParentId, BillingAddress, …,
 *   LastModifiedDate at position 22) and the decoded field names of one real UPDATE
 *   (LastModifiedDate, BillingAddress.City, BillingAddress.State): the event printed in the README of
 *   the salesforce-pubsub-api-client package (5.5.2), captured from a real org;
 * - the encoding (hex, least significant bit = schema position 0; `p-0x…` for a compound's children;
 *   e.g. `0x650004E0`): the Pub/Sub API's example utility ChangeEventHeaderUtility.py and its README in
 *   the published pub-sub-api repository, and the Change Data Capture guide ("Bitmap Fields in Change Events").
 * The bitmaps below are that real event's field set encoded by those rules.
 */
const opt = (name: string, type: unknown = 'string') => ({ name, type: ['null', type], default: null });
const address = {
  type: 'record',
  name: 'Address',
  fields: [
    'Street',
    'City',
    'State',
    'PostalCode',
    'Country',
    'StateCode',
    'CountryCode',
    'Latitude',
    'Longitude',
    'Xyz',
    'GeocodeAccuracy',
  ].map((n) => opt(n, n === 'Latitude' || n === 'Longitude' ? 'double' : 'string')),
};
const topFields = [
  'Name',
  'Type',
  'ParentId',
  'BillingAddress',
  'ShippingAddress',
  'Phone',
  'Fax',
  'AccountNumber',
  'Website',
  'Sic',
  'Industry',
  'AnnualRevenue',
  'NumberOfEmployees',
  'Ownership',
  'TickerSymbol',
  'Description',
  'Rating',
  'Site',
  'OwnerId',
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
];
const schema: AvroRecordSchema = {
  type: 'record',
  name: 'AccountChangeEvent',
  fields: [
    { name: 'ChangeEventHeader', type: { type: 'record', name: 'ChangeEventHeader', fields: [] } },
    ...topFields.map((n) =>
      n.endsWith('Address')
        ? opt(n, address)
        : opt(n, /Date$/.test(n) ? { type: 'long', logicalType: 'timestamp-millis' } : 'string'),
    ),
  ],
};

describe('change event bitmaps (Pub/Sub API format)', () => {
  it('reads bit positions least significant first, as the published utility does', () => {
    expect(bitmapPositions('0x650004E0')).toEqual([5, 6, 7, 10, 24, 26, 29, 30]);
    expect(bitmapPositions('0x')).toEqual([]);
  });

  it("decodes the real event's changedFields, nested compound fields included", () => {
    expect(schema.fields[22]!.name).toBe('LastModifiedDate');
    expect(decodeFieldBitmaps(schema, ['0x400000', '4-0x06'])).toEqual([
      'LastModifiedDate',
      'BillingAddress.City',
      'BillingAddress.State',
    ]);
  });

  it('rejects a bitmap naming a field the schema does not have, and a nested one on a plain field', () => {
    expect(() => decodeFieldBitmaps(schema, ['0x1000000000'])).toThrow(/names field 36/);
    expect(() => decodeFieldBitmaps(schema, ['1-0x01'])).toThrow(/not a compound field/);
  });

  it('turns the decoded record into one entity event per record id, compound values in REST names', () => {
    const decoded = decodeChangeEvent(schema, {
      ChangeEventHeader: {
        entityName: 'Account',
        recordIds: ['0014H00002LbR7QQAV', '0014H00002LbR7RQAV'],
        changeType: 'CREATE',
        changeOrigin: 'com/salesforce/api/soap/58.0;client=SfdcInternalAPI/',
        transactionKey: '000046c7-a642-11e2-c29b-229c6786473e',
        sequenceNumber: 1,
        commitTimestamp: 1696444513000,
        commitNumber: 11657372702432,
        commitUser: '00558000000yFyDAAU',
        nulledFields: [],
        diffFields: [],
        changedFields: [],
      },
      Name: 'Acme',
      BillingAddress: { City: 'San Francisco', State: 'CA' },
      LastModifiedDate: 1696444513000,
    });
    expect(decoded.fields).toEqual({
      Name: 'Acme',
      BillingCity: 'San Francisco',
      BillingState: 'CA',
      LastModifiedDate: '2023-10-04T18:35:13.000Z',
    });
    const mapped = entityEventsOf(decoded, '2023-10-04T18:35:14.000Z');
    expect('events' in mapped && mapped.events.map((e) => [e.eventId, e.recordId, e.kind])).toEqual([
      ['sfcdc:000046c7-a642-11e2-c29b-229c6786473e:1:0', '0014H00002LbR7QQAV', 'account.created'],
      ['sfcdc:000046c7-a642-11e2-c29b-229c6786473e:1:1', '0014H00002LbR7RQAV', 'account.created'],
    ]);
  });
});
