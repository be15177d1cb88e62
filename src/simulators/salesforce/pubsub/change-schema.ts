import { createHash } from 'node:crypto';
import type { FieldDef, ObjectDef } from '../schema';

/**
 * The Avro schema of an object's change event channel (`/data/<Object>ChangeEvent`), laid out as
 * Salesforce's Change Data Capture documents it for the Pub/Sub API:
 *
 * - a record `<Object>ChangeEvent` in namespace `com.sforce.eventbus`; its first field is
 *   `ChangeEventHeader` (entityName, recordIds, changeType, changeOrigin, transactionKey,
 *   sequenceNumber, commitTimestamp, commitNumber, commitUser, nulledFields, diffFields, changedFields);
 * - then every field of the object as an optional union `["null", T]` with default null, except `Id`
 *   (the ids are in `recordIds`), `IsDeleted` and `SystemModstamp`, which change events never carry;
 * - compound fields are nested records in place of their components: `BillingAddress` { Street, City,
 *   State, PostalCode, Country, StateCode, CountryCode, Latitude, Longitude, GeocodeAccuracy } where
 *   `BillingStreet` … were, and a Contact's `Name` { Salutation, FirstName, LastName };
 * - datetimes are `long` epoch milliseconds (logicalType timestamp-millis), dates `int` days since
 *   1970-01-01 (logicalType date), numbers `double` / `int`, everything else `string`.
 *
 * Bit positions in the header's bitmap fields are positions in this field list (the header is 0), and
 * nested bitmaps use positions in the compound record's field list.
 */

export interface CompoundDef {
  name: string;
  /** Child name in the change event -> the object's own (flat) field name, when the object has it. */
  children: { name: string; field?: string }[];
}

export interface ChangeSchemaField {
  name: string;
  /** The object's field this is (top-level fields), absent for compounds. */
  field?: FieldDef;
  compound?: CompoundDef;
}

export interface ChangeSchema {
  entity: string;
  channel: string;
  schemaId: string;
  json: string;
  /** Top-level fields in schema order, index = bit position (0 = ChangeEventHeader). */
  fields: ChangeSchemaField[];
}

const ADDRESS_CHILDREN = [
  'Street',
  'City',
  'State',
  'PostalCode',
  'Country',
  'StateCode',
  'CountryCode',
  'Latitude',
  'Longitude',
  'GeocodeAccuracy',
];
const NUMERIC_ADDRESS_CHILDREN = new Set(['Latitude', 'Longitude']);
const NAME_CHILDREN = ['Salutation', 'FirstName', 'LastName'];
const NOT_IN_EVENTS = new Set(['Id', 'IsDeleted', 'SystemModstamp']);

export const CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
  'SNAPSHOT',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

const headerSchema = {
  type: 'record',
  name: 'ChangeEventHeader',
  fields: [
    { name: 'entityName', type: 'string' },
    { name: 'recordIds', type: { type: 'array', items: 'string' } },
    {
      name: 'changeType',
      type: { type: 'enum', name: 'ChangeType', namespace: 'com.sforce.eventbus', symbols: CHANGE_TYPES },
    },
    { name: 'changeOrigin', type: 'string' },
    { name: 'transactionKey', type: 'string' },
    { name: 'sequenceNumber', type: 'int' },
    { name: 'commitTimestamp', type: 'long' },
    { name: 'commitNumber', type: 'long' },
    { name: 'commitUser', type: 'string' },
    { name: 'nulledFields', type: { type: 'array', items: 'string' } },
    { name: 'diffFields', type: { type: 'array', items: 'string' } },
    { name: 'changedFields', type: { type: 'array', items: 'string' } },
  ],
};

function avroType(f: FieldDef): unknown {
  switch (f.type) {
    case 'datetime':
      return { type: 'long', logicalType: 'timestamp-millis' };
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'double':
    case 'currency':
    case 'percent':
      return 'double';
    case 'int':
      return 'int';
    case 'boolean':
      return 'boolean';
    default:
      return 'string';
  }
}

const optional = (name: string, type: unknown) => ({ name, type: ['null', type], default: null });

/** Which fields of an object form compound fields, keyed by the first component's name. */
function compoundsOf(def: ObjectDef): Map<string, CompoundDef> {
  const out = new Map<string, CompoundDef>();
  for (const prefix of ['Billing', 'Shipping', 'Mailing']) {
    if (!def.byLowerName.has(`${prefix}street`.toLowerCase())) continue;
    const children = ADDRESS_CHILDREN.map((child) => {
      const field = def.byLowerName.get(`${prefix}${child}`.toLowerCase())?.name;
      return field ? { name: child, field } : { name: child };
    });
    const first = children.find((c) => c.field)!.field!;
    out.set(first, { name: `${prefix}Address`, children });
  }
  if (def.name === 'Contact') {
    out.set('Salutation', {
      name: 'Name',
      children: NAME_CHILDREN.map((name) => ({ name, field: name })),
    });
  }
  return out;
}

export function buildChangeSchema(def: ObjectDef): ChangeSchema {
  const compounds = compoundsOf(def);
  const inCompound = new Set(
    [...compounds.values()].flatMap((c) => c.children.flatMap((x) => x.field ?? [])),
  );
  const fields: ChangeSchemaField[] = [{ name: 'ChangeEventHeader' }];
  const avroFields: unknown[] = [{ name: 'ChangeEventHeader', type: headerSchema }];
  for (const f of def.fields) {
    if (NOT_IN_EVENTS.has(f.name)) continue;
    const compound = compounds.get(f.name);
    if (compound) {
      fields.push({ name: compound.name, compound });
      avroFields.push(
        optional(compound.name, {
          type: 'record',
          name: `${def.name}${compound.name}`,
          fields: compound.children.map((c) => {
            const child = c.field ? def.byLowerName.get(c.field.toLowerCase())! : undefined;
            const type = child ? avroType(child) : NUMERIC_ADDRESS_CHILDREN.has(c.name) ? 'double' : 'string';
            return optional(c.name, type);
          }),
        }),
      );
      continue;
    }
    if (inCompound.has(f.name)) continue;
    fields.push({ name: f.name, field: f });
    avroFields.push(optional(f.name, avroType(f)));
  }
  const json = JSON.stringify({
    type: 'record',
    name: `${def.name}ChangeEvent`,
    namespace: 'com.sforce.eventbus',
    fields: avroFields,
  });
  // A schema id names one version of the schema: it changes when the object's fields change.
  const schemaId = createHash('sha256').update(json).digest('base64url').slice(0, 22);
  return { entity: def.name, channel: `/data/${def.name}ChangeEvent`, schemaId, json, fields };
}
