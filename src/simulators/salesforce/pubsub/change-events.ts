import { Type } from 'avsc';
import type { Schema } from 'avsc';
import type { Change } from '../store';
import type { ChangeSchema, ChangeType } from './change-schema';

/**
 * Turns committed changes into Change Data Capture events as the Pub/Sub API delivers them: one Avro
 * record per event with every schema field present (null when not carried), the header's
 * `changedFields` / `nulledFields` / `diffFields` as bitmaps over the schema's field positions
 * (`0x…` hex, bit i = field i), compound fields as nested records with a `<parentPosition>-0x…` bitmap
 * over the compound's own fields, and changes of several records in one transaction that are the same
 * change (same type, fields and values) merged into one event naming all their `recordIds`.
 */

export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: ChangeType;
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

export interface ChangeEventRecord {
  ChangeEventHeader: ChangeEventHeader;
  [field: string]: unknown;
}

export interface TransactionInfo {
  transactionKey: string;
  commitNumber: number;
  changeOrigin: string;
}

/** `0x…` with whole bytes in upper-case hex; bit i set for every position i. */
export function bitmapHex(positions: Iterable<number>): string {
  let bits = 0n;
  for (const p of positions) bits |= 1n << BigInt(p);
  let hex = bits.toString(16).toUpperCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return `0x${hex}`;
}

const DAY_MS = 86_400_000;

/** A stored value in its Avro form (dates as days since the epoch, datetimes as epoch ms). */
function avroValue(schema: ChangeSchema, fieldName: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const field = schema.fields.find((f) => f.field?.name === fieldName)?.field;
  const type = field?.type;
  if (type === 'date' && typeof value === 'string')
    return Math.round(Date.parse(`${value}T00:00:00Z`) / DAY_MS);
  return value;
}

/** Where a flat field lives in the event: a top-level position, or a compound's position and child index. */
function locate(
  schema: ChangeSchema,
  fieldName: string,
): { top: number } | { parent: number; child: number; childName: string } | undefined {
  for (const [i, f] of schema.fields.entries()) {
    if (f.field?.name === fieldName) return { top: i };
    const child = f.compound?.children.findIndex((c) => c.field === fieldName) ?? -1;
    if (child >= 0) return { parent: i, child, childName: f.compound!.children[child]!.name };
  }
  return undefined;
}

/** The header bitmaps for a list of flat field names: the top-level bitmap first, then one per compound. */
export function fieldBitmaps(schema: ChangeSchema, fieldNames: readonly string[]): string[] {
  if (fieldNames.length === 0) return [];
  const top = new Set<number>();
  const nested = new Map<number, Set<number>>();
  for (const name of fieldNames) {
    const at = locate(schema, name);
    if (!at) continue;
    if ('top' in at) top.add(at.top);
    else {
      const children = nested.get(at.parent) ?? new Set<number>();
      children.add(at.child);
      nested.set(at.parent, children);
    }
  }
  if (top.size === 0 && nested.size === 0) return [];
  return [
    bitmapHex(top),
    ...[...nested.entries()].sort(([a], [b]) => a - b).map(([p, c]) => `${p}-${bitmapHex(c)}`),
  ];
}

/** The body of an event: every schema field, with the change's values placed (compounds nested). */
function body(schema: ChangeSchema, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields.slice(1)) {
    if (f.compound) {
      const nested: Record<string, unknown> = {};
      let any = false;
      for (const c of f.compound.children) {
        const v = c.field !== undefined && c.field in values ? values[c.field] : undefined;
        nested[c.name] = v === undefined ? null : avroValue(schema, c.field!, v);
        if (v !== undefined) any = true;
      }
      out[f.name] = any ? nested : null;
    } else {
      out[f.name] =
        f.field && f.field.name in values ? avroValue(schema, f.field.name, values[f.field.name]) : null;
    }
  }
  return out;
}

function sameChange(a: Change, b: Change): boolean {
  return (
    a.entityName === b.entityName &&
    a.changeType === b.changeType &&
    a.userId === b.userId &&
    a.at === b.at &&
    JSON.stringify(a.changedFields) === JSON.stringify(b.changedFields) &&
    JSON.stringify(a.values) === JSON.stringify(b.values)
  );
}

/** One transaction's changes of one object type as CDC event records, in commit order. */
export function changeEventRecords(
  schema: ChangeSchema,
  changes: readonly Change[],
  tx: TransactionInfo,
  firstSequenceNumber: number,
): ChangeEventRecord[] {
  const groups: Change[][] = [];
  for (const c of changes) {
    const group = groups.find((g) => sameChange(g[0]!, c));
    if (group) group.push(c);
    else groups.push([c]);
  }
  return groups.map((group, i) => {
    const c = group[0]!;
    const nulled = c.changeType === 'UPDATE' ? c.changedFields.filter((f) => c.values[f] === null) : [];
    return {
      ChangeEventHeader: {
        entityName: c.entityName,
        recordIds: group.map((g) => g.id),
        changeType: c.changeType,
        changeOrigin: tx.changeOrigin,
        transactionKey: tx.transactionKey,
        sequenceNumber: firstSequenceNumber + i,
        commitTimestamp: c.at,
        commitNumber: tx.commitNumber,
        commitUser: c.userId,
        nulledFields: fieldBitmaps(schema, nulled),
        diffFields: [],
        changedFields: c.changeType === 'UPDATE' ? fieldBitmaps(schema, c.changedFields) : [],
      },
      ...(c.changeType === 'DELETE' ? body(schema, {}) : body(schema, c.values)),
    };
  });
}

/** A gap event: the header only (no field values), as Salesforce sends when it could not build the event. */
export function gapEventRecord(
  schema: ChangeSchema,
  changeType: Extract<ChangeType, `GAP_${string}`>,
  recordIds: string[],
  tx: TransactionInfo & { commitTimestamp: number; commitUser: string },
): ChangeEventRecord {
  return {
    ChangeEventHeader: {
      entityName: schema.entity,
      recordIds,
      changeType,
      changeOrigin: tx.changeOrigin,
      transactionKey: tx.transactionKey,
      sequenceNumber: 1,
      commitTimestamp: tx.commitTimestamp,
      commitNumber: tx.commitNumber,
      commitUser: tx.commitUser,
      nulledFields: [],
      diffFields: [],
      changedFields: [],
    },
    ...body(schema, {}),
  };
}

const types = new Map<string, Type>();

export function avroTypeOf(schema: ChangeSchema): Type {
  let t = types.get(schema.schemaId);
  if (!t) {
    t = Type.forSchema(JSON.parse(schema.json) as Schema);
    types.set(schema.schemaId, t);
  }
  return t;
}

export function encodeChangeEvent(schema: ChangeSchema, record: ChangeEventRecord): Buffer {
  return avroTypeOf(schema).toBuffer(record);
}
