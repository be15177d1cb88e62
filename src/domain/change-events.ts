import type { EntityEvent } from './entity-event';

/**
 * Salesforce Change Data Capture events as the Pub/Sub API delivers them, decoded against the event's
 * Avro schema — pure functions, no I/O. Facts used (Salesforce Change Data Capture Developer Guide, "Change
 * Event Header Fields" and "Bitmap Fields in Change Events"; Pub/Sub API guide; the published
 * `pubsub_api.proto` and its example `ChangeEventHeaderUtility.py`):
 *
 * - the payload is one Avro record: `ChangeEventHeader` first, then the object's fields, each an optional
 *   union; unchanged fields are null in an UPDATE, compound fields (`BillingAddress`) are nested records;
 * - `changedFields`, `nulledFields`, `diffFields` are lists of bitmaps: the first, `0x…`, is hex whose bit
 *   i (least significant first) marks the schema's field i; each further entry `p-0x…` marks fields of the
 *   compound record at position p (`BillingAddress.City`);
 * - `recordIds` can name several records changed the same way in one transaction: each is its own change;
 * - `changeType` CREATE / UPDATE / DELETE / UNDELETE, gap events GAP_* carry no field values, GAP_OVERFLOW
 *   means too many changes in one transaction;
 * - `commitTimestamp` is epoch ms; `changeOrigin` names the API client (`client=<Sforce-Call-Options>`).
 */

export class ChangeEventDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangeEventDecodeError';
  }
}

/** The parts of an Avro schema the decoder reads. */
export interface AvroField {
  name: string;
  type: unknown;
}
export interface AvroRecordSchema {
  type: 'record';
  name: string;
  fields: AvroField[];
}

export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: string;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  nulledFields: string[];
  diffFields: string[];
  changedFields: string[];
}

export interface DecodedChangeEvent {
  header: ChangeEventHeader;
  /** The header's bitmaps as field names, compound children dotted (`BillingAddress.City`). */
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
  /** Field values the event carries, in the object's REST field names (compounds flattened: BillingCity). */
  fields: Record<string, unknown>;
}

export const GAP_CHANGE_TYPES = ['GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW'];

/** The record schema inside an optional union (`["null", {record}]`), if any. */
function recordOf(type: unknown): AvroRecordSchema | undefined {
  const candidates = Array.isArray(type) ? type : [type];
  return candidates.find(
    (t): t is AvroRecordSchema =>
      typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'record',
  );
}

function logicalTypeOf(type: unknown): string | undefined {
  const candidates = Array.isArray(type) ? type : [type];
  for (const t of candidates) {
    if (
      typeof t === 'object' &&
      t !== null &&
      typeof (t as { logicalType?: unknown }).logicalType === 'string'
    )
      return (t as { logicalType: string }).logicalType;
  }
  return undefined;
}

/** Positions set in a `0x…` bitmap, least significant bit = position 0. */
export function bitmapPositions(bitmap: string): number[] {
  if (!/^0x[0-9a-fA-F]*$/.test(bitmap)) throw new ChangeEventDecodeError(`"${bitmap}" is not a 0x… bitmap`);
  const hex = bitmap.slice(2);
  if (hex === '') return [];
  let bits = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let i = 0; bits > 0n; i += 1, bits >>= 1n) if (bits & 1n) out.push(i);
  return out;
}

/**
 * Field names for a header bitmap list, against the schema. Entries already holding names (CometD-style
 * JSON events) are returned as they are.
 */
export function decodeFieldBitmaps(schema: AvroRecordSchema, entries: readonly string[]): string[] {
  const names: string[] = [];
  for (const entry of entries) {
    const nested = /^(\d+)-(0x[0-9a-fA-F]*)$/.exec(entry);
    if (nested) {
      const parent = schema.fields[Number(nested[1])];
      const child = parent ? recordOf(parent.type) : undefined;
      if (!parent || !child) {
        throw new ChangeEventDecodeError(
          `bitmap "${entry}" names position ${nested[1]}, which is not a compound field of ${schema.name}`,
        );
      }
      for (const p of bitmapPositions(nested[2]!)) {
        const f = child.fields[p];
        if (!f)
          throw new ChangeEventDecodeError(
            `bitmap "${entry}" names child ${p} of ${parent.name}, which does not exist`,
          );
        names.push(`${parent.name}.${f.name}`);
      }
    } else if (entry.startsWith('0x')) {
      for (const p of bitmapPositions(entry)) {
        const f = schema.fields[p];
        if (!f)
          throw new ChangeEventDecodeError(
            `bitmap "${entry}" names field ${p}; ${schema.name} has ${schema.fields.length}`,
          );
        names.push(f.name);
      }
    } else {
      names.push(entry);
    }
  }
  return names;
}

/** The REST name of a compound's component: `BillingAddress.City` -> `BillingCity`; `Name.FirstName` -> `FirstName`. */
export function flatFieldName(dotted: string): string {
  const [parent, child] = dotted.split('.') as [string, string | undefined];
  if (child === undefined) return parent;
  return parent.endsWith('Address') ? `${parent.slice(0, -'Address'.length)}${child}` : child;
}

const DAY_MS = 86_400_000;

function restValue(type: unknown, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const logical = logicalTypeOf(type);
  if (logical === 'date' && typeof value === 'number')
    return new Date(value * DAY_MS).toISOString().slice(0, 10);
  if (logical === 'timestamp-millis' && (typeof value === 'number' || typeof value === 'bigint'))
    return new Date(Number(value)).toISOString();
  if (value instanceof Date)
    return logical === 'date' ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function asHeader(value: unknown): ChangeEventHeader {
  const h = value as Partial<ChangeEventHeader> | null | undefined;
  if (
    !h ||
    typeof h.entityName !== 'string' ||
    !Array.isArray(h.recordIds) ||
    typeof h.changeType !== 'string'
  ) {
    throw new ChangeEventDecodeError(
      'the event has no ChangeEventHeader with entityName, recordIds and changeType',
    );
  }
  return {
    entityName: h.entityName,
    recordIds: h.recordIds.map(String),
    changeType: h.changeType,
    changeOrigin: h.changeOrigin ?? '',
    transactionKey: h.transactionKey ?? '',
    sequenceNumber: Number(h.sequenceNumber ?? 0),
    commitTimestamp: Number(h.commitTimestamp ?? 0),
    commitNumber: Number(h.commitNumber ?? 0),
    commitUser: h.commitUser ?? '',
    nulledFields: h.nulledFields ?? [],
    diffFields: h.diffFields ?? [],
    changedFields: h.changedFields ?? [],
  };
}

/**
 * A decoded Avro record (optional unions unwrapped, as `avsc` reads them) to the header, the changed
 * field names and the values in REST names. Null values are kept only for fields the event says were
 * nulled; an UPDATE's other nulls mean "unchanged".
 */
export function decodeChangeEvent(
  schema: AvroRecordSchema,
  record: Record<string, unknown>,
): DecodedChangeEvent {
  const header = asHeader(record.ChangeEventHeader);
  const changedFields = decodeFieldBitmaps(schema, header.changedFields);
  const nulledFields = decodeFieldBitmaps(schema, header.nulledFields);
  const diffFields = decodeFieldBitmaps(schema, header.diffFields);
  const nulled = new Set(nulledFields.map(flatFieldName));
  const fields: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (f.name === 'ChangeEventHeader') continue;
    const value = record[f.name];
    const compound = recordOf(f.type);
    if (compound) {
      const nested = (value ?? {}) as Record<string, unknown>;
      for (const c of compound.fields) {
        const flat = flatFieldName(`${f.name}.${c.name}`);
        const v = restValue(c.type, nested[c.name]);
        if (v !== null || nulled.has(flat)) fields[flat] = v;
      }
      continue;
    }
    const v = restValue(f.type, value);
    if (v !== null || nulled.has(f.name)) fields[f.name] = v;
  }
  return { header, changedFields, nulledFields, diffFields, fields };
}

/** The entity-event kind each subscribed object / change type becomes, and the id prefix it must carry. */
const SUBSCRIBED: Record<string, { kind: EntityEvent['kind']; keyPrefix: string }> = {
  'Account CREATE': { kind: 'account.created', keyPrefix: '001' },
  'Account GAP_CREATE': { kind: 'account.created', keyPrefix: '001' },
  'Opportunity UPDATE': { kind: 'opportunity.updated', keyPrefix: '006' },
  'Opportunity GAP_UPDATE': { kind: 'opportunity.updated', keyPrefix: '006' },
};

export function subscribedKind(entityName: string, changeType: string) {
  return SUBSCRIBED[`${entityName} ${changeType}`];
}

/**
 * The event id of one record's change: stable across redeliveries, resubscriptions and replays (the
 * transaction key is unique per transaction, the sequence number orders its events; replay ids are not
 * guaranteed unique across org migrations, so they are not used).
 */
export function changeEventId(
  header: Pick<ChangeEventHeader, 'transactionKey' | 'sequenceNumber'>,
  recordIndex: number,
  recordCount: number,
): string {
  const base = `sfcdc:${header.transactionKey}:${header.sequenceNumber}`;
  return recordCount > 1 ? `${base}:${recordIndex}` : base;
}

/**
 * One entity event per record the change names (the webhook ingress's contract), or a reason the change is
 * not for the coordinator.
 */
export function entityEventsOf(
  decoded: DecodedChangeEvent,
  receivedAt: string,
): { events: EntityEvent[] } | { ignored: string } {
  const { header } = decoded;
  const subscription = subscribedKind(header.entityName, header.changeType);
  if (!subscription)
    return { ignored: `${header.entityName} ${header.changeType} events are not subscribed` };
  const ids = header.recordIds.filter(
    (id) => id.startsWith(subscription.keyPrefix) && /^[A-Za-z0-9]{15,18}$/.test(id),
  );
  if (ids.length === 0)
    return { ignored: `no ${header.entityName} record ids in ${header.recordIds.join(', ')}` };
  const occurredAt = new Date(header.commitTimestamp).toISOString();
  const changedFields = [...new Set(decoded.changedFields.map(flatFieldName))];
  return {
    events: ids.map((recordId, i) => ({
      eventId: changeEventId(header, i, ids.length),
      source: 'salesforce' as const,
      kind: subscription.kind,
      recordId,
      occurredAt,
      origin: header.changeOrigin,
      fields: { ...decoded.fields },
      ...(changedFields.length > 0 ? { changedFields } : {}),
      receivedAt,
    })),
  };
}
