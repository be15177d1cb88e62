import { SfError } from './errors';
import { normalizeId } from './ids';
import type { FieldDef } from './schema';

/**
 * Field values as the store keeps them: text/picklist/id as strings, numbers as numbers, booleans,
 * dates as `YYYY-MM-DD`, datetimes as epoch milliseconds, and null. Rendering turns them back into the
 * wire formats Salesforce uses.
 */
export type Value = string | number | boolean | null;

const TEXT_TYPES = new Set(['string', 'textarea', 'phone', 'url', 'email', 'picklist']);
const NUMBER_TYPES = new Set(['double', 'currency', 'percent', 'int']);

export const isTextType = (f: FieldDef) => TEXT_TYPES.has(f.type);
export const isNumberType = (f: FieldDef) => NUMBER_TYPES.has(f.type);
export const isIdType = (f: FieldDef) => f.type === 'id' || f.type === 'reference';

/** `2013-05-20T20:49:32.000+0000`: the REST API's datetime format (no colon in the offset). */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `2024-01-01T00:00:00Z`, `…+0000`, `…+02:00`, `….123Z`; no zone means UTC (as SF assumes). */
export function parseDateTime(text: string): number | undefined {
  const m = DATETIME_RE.exec(text);
  if (!m) return undefined;
  let zone = m[8] ?? 'Z';
  if (zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const frac = (m[7] ?? '.000').slice(0, 4).padEnd(4, '0');
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseDate(text: string): string | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const d = new Date(`${text}T00:00:00Z`);
  // Rejects 2024-02-30 and the like, which Date would silently roll over.
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text ? text : undefined;
}

/** The JSON value Salesforce sends for a stored value. */
export function renderValue(f: FieldDef, v: Value | undefined): unknown {
  if (v === undefined || v === null) return null;
  if (f.type === 'datetime' && typeof v === 'number') return formatDateTime(v);
  return v;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function deserializeError(f: FieldDef, raw: unknown): SfError {
  const kind =
    raw === null
      ? 'VALUE_NULL'
      : Array.isArray(raw)
        ? 'START_ARRAY'
        : typeof raw === 'object'
          ? 'START_OBJECT'
          : `VALUE_${typeof raw === 'string' ? 'STRING' : typeof raw === 'boolean' ? (raw ? 'TRUE' : 'FALSE') : 'NUMBER'}`;
  const target =
    f.type === 'datetime'
      ? 'datetime'
      : f.type === 'date'
        ? 'date'
        : isNumberType(f)
          ? 'double'
          : f.type === 'boolean'
            ? 'boolean'
            : 'String';
  return new SfError(
    400,
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${target} from ${kind} value ${typeof raw === 'string' ? raw : JSON.stringify(raw)} or request may be missing a required field`,
  );
}

/**
 * Turns one JSON input value into a stored value, or throws the error Salesforce gives for it. The split
 * between codes follows SF: values JSON cannot deserialize into the field's Java type are
 * JSON_PARSER_ERROR; values that deserialize but are not valid for the field get a field-level code.
 */
export function coerceInput(f: FieldDef, raw: unknown): Value {
  if (raw === null) return null;
  if (typeof raw === 'object') throw deserializeError(f, raw);
  return coerceScalar(f, raw as string | number | boolean);
}

function coerceScalar(f: FieldDef, raw: string | number | boolean): Value {
  if (isTextType(f)) {
    const s = String(raw);
    if (f.length !== undefined && s.length > f.length) {
      throw new SfError(
        400,
        'STRING_TOO_LONG',
        `${f.label}: data value too large: ${s} (max length=${f.length})`,
        [f.name],
      );
    }
    if (f.type === 'email' && s !== '' && !EMAIL_RE.test(s)) {
      throw new SfError(400, 'INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${s}`, [f.name]);
    }
    // SF stores an empty string as null.
    return s === '' ? null : s;
  }
  if (isNumberType(f)) {
    if (typeof raw === 'boolean') throw deserializeError(f, raw);
    const n = typeof raw === 'number' ? raw : String(raw).trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || (f.type === 'int' && !Number.isInteger(n))) {
      throw new SfError(
        400,
        'INVALID_TYPE_ON_FIELD_IN_RECORD',
        `${f.label}: value not of required type: ${String(raw)}`,
        [f.name],
      );
    }
    const scale = f.scale ?? 0;
    const intDigits = (f.precision ?? 18) - scale;
    if (Math.abs(Math.trunc(n)).toString().length > intDigits) {
      throw new SfError(
        400,
        'NUMBER_OUTSIDE_VALID_RANGE',
        `${f.label}: value outside of valid range on numeric field: ${String(raw)}`,
        [f.name],
      );
    }
    return f.type === 'double' ? n : Number(n.toFixed(scale));
  }
  if (f.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new SfError(
      400,
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
      `${f.label}: value not of required type: ${String(raw)}`,
      [f.name],
    );
  }
  if (f.type === 'date') {
    if (typeof raw !== 'string') throw deserializeError(f, raw);
    const d = parseDate(raw) ?? (parseDateTime(raw) !== undefined ? raw.slice(0, 10) : undefined);
    if (d === undefined) throw deserializeError(f, raw);
    return d;
  }
  if (f.type === 'datetime') {
    if (typeof raw !== 'string') throw deserializeError(f, raw);
    const ms =
      parseDateTime(raw) ?? (parseDate(raw) !== undefined ? Date.parse(`${raw}T00:00:00Z`) : undefined);
    if (ms === undefined) throw deserializeError(f, raw);
    return ms;
  }
  // id / reference
  const s = String(raw);
  if (s === '') return null;
  const id = normalizeId(s);
  if (id === undefined) {
    throw new SfError(400, 'MALFORMED_ID', `${f.label}: id value of incorrect type: ${s}`, [f.name]);
  }
  return id;
}
