import { SfError } from './errors';
import { KEY_PREFIXES, normalizeId } from './ids';
import type { IdGenerator } from './ids';
import { findObject, objectForId } from './schema';
import type { FieldDef, ObjectDef } from './schema';
import { coerceInput, isTextType } from './values';
import type { Value } from './values';

export type Row = Record<string, Value>;

export type ChangeType = 'CREATE' | 'UPDATE' | 'DELETE';

/** One committed change, the raw material of a Change Data Capture event. */
export interface Change {
  entityName: string;
  id: string;
  changeType: ChangeType;
  /** Fields whose value changed (UPDATE); empty on CREATE and DELETE, as CDC reports them. */
  changedFields: string[];
  /** CREATE: all non-null fields; UPDATE: the changed fields' new values; DELETE: none. */
  values: Row;
  userId: string;
  at: number;
}

export interface DmlContext {
  userId: string;
  now: number;
  /** Changes made so far in this transaction, in order. */
  changes: Change[];
}

/**
 * A point a transaction can roll back to. Rows are replaced on every write, never changed in place, so
 * the store keeps a journal of the rows each write replaced while a savepoint is open, and a rollback
 * puts them back: its cost is the writes since the savepoint, not the size of the org.
 */
export interface Savepoint {
  readonly mark: number;
  readonly orderNumber: number;
  open: boolean;
}

/** Fields CDC never carries in the event body. */
const NOT_IN_EVENTS = new Set(['Id', 'IsDeleted', 'SystemModstamp']);

export class RecordStore {
  private tables = new Map<string, Map<string, Row>>();
  private orderNumber = 100;
  private journal: { type: string; id: string; previous: Row | undefined }[] = [];
  private openSavepoints = 0;

  constructor(private readonly ids: IdGenerator) {}

  private table(type: string): Map<string, Row> {
    let t = this.tables.get(type);
    if (!t) {
      t = new Map();
      this.tables.set(type, t);
    }
    return t;
  }

  /** The stored row, deleted or not. */
  get(type: string, id: string): Row | undefined {
    return this.tables.get(type)?.get(id);
  }

  /** Finds a row of any type by id (15 or 18 chars). */
  find(id: string): { def: ObjectDef; row: Row } | undefined {
    const id18 = normalizeId(id);
    if (!id18) return undefined;
    const def = objectForId(id18);
    const row = def ? this.get(def.name, id18) : undefined;
    return def && row ? { def, row } : undefined;
  }

  list(type: string, includeDeleted = false): Row[] {
    return [...(this.tables.get(type)?.values() ?? [])].filter((r) => includeDeleted || r.IsDeleted !== true);
  }

  clear(): void {
    this.tables.clear();
    this.orderNumber = 100;
  }

  /** Every write from here on can be undone by rollback(savepoint); release() when done with it. */
  savepoint(): Savepoint {
    this.openSavepoints += 1;
    return { mark: this.journal.length, orderNumber: this.orderNumber, open: true };
  }

  /** Undoes the writes made since the savepoint, and releases it. */
  rollback(sp: Savepoint): void {
    if (!sp.open) throw new Error('rollback of a savepoint that was already released');
    while (this.journal.length > sp.mark) {
      const { type, id, previous } = this.journal.pop()!;
      if (previous) this.table(type).set(id, previous);
      else this.table(type).delete(id);
    }
    this.orderNumber = sp.orderNumber;
    this.release(sp);
  }

  /** Keeps the writes made since the savepoint (an enclosing savepoint can still undo them). */
  release(sp: Savepoint): void {
    if (!sp.open) return;
    sp.open = false;
    this.openSavepoints -= 1;
    if (this.openSavepoints === 0) this.journal = [];
  }

  /** The one place rows are written: journaled while a savepoint is open. */
  private put(type: string, id: string, row: Row): void {
    const table = this.table(type);
    if (this.openSavepoints > 0) this.journal.push({ type, id, previous: table.get(id) });
    table.set(id, row);
  }

  /** Live rows whose field equals value (case-insensitively for text, as SF matches external ids). */
  findBy(def: ObjectDef, field: FieldDef, value: Value, excludeId?: string): Row[] {
    return this.list(def.name).filter((r) => {
      if (r.Id === excludeId) return false;
      const v = r[field.name];
      if (v === null || v === undefined || value === null) return false;
      if (isTextType(field) && !field.caseSensitive)
        return String(v).toLowerCase() === String(value).toLowerCase();
      return v === value;
    });
  }

  /**
   * Validates a JSON body against the object in the order SF does: unknown fields and values that do not
   * deserialize, then field-level security (create/update), then required fields, references and uniqueness.
   */
  private prepare(
    def: ObjectDef,
    body: Record<string, unknown>,
    mode: 'create' | 'update',
    current?: Row,
  ): Row {
    const values: Row = {};
    for (const [key, raw] of Object.entries(body)) {
      if (key === 'attributes') continue;
      const f = def.byLowerName.get(key.toLowerCase());
      if (!f)
        throw new SfError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`);
      if (f.name === 'Id') {
        if (mode === 'create')
          throw new SfError(
            400,
            'INVALID_FIELD',
            'The Id field should not be specified in the sobject data.',
          );
        continue; // update: the id comes from the URL
      }
      values[f.name] = coerceInput(f, raw);
    }
    const notWritable = Object.keys(values).filter((name) => {
      const f = def.byLowerName.get(name.toLowerCase())!;
      return mode === 'create' ? !f.createable : !f.updateable;
    });
    if (notWritable.length > 0) {
      throw new SfError(
        400,
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        notWritable,
      );
    }
    const merged = { ...(current ?? {}), ...values };
    const missing = def.fields
      .filter((f) => f.required && (merged[f.name] === undefined || merged[f.name] === null))
      .map((f) => f.name);
    if (missing.length > 0) {
      throw new SfError(
        400,
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.join(', ')}]`,
        missing,
      );
    }
    for (const [name, v] of Object.entries(values)) {
      const f = def.byLowerName.get(name.toLowerCase())!;
      if (f.type !== 'reference' || v === null) continue;
      const target = f.referenceTo?.[0] ?? '';
      const expectedPrefix = target === 'User' ? KEY_PREFIXES.User : findObject(target)?.keyPrefix;
      if (String(v).slice(0, 3) !== expectedPrefix) {
        throw new SfError(
          400,
          'FIELD_INTEGRITY_EXCEPTION',
          `${f.label}: id value of incorrect type: ${String(v)}`,
          [f.name],
        );
      }
      if (target !== 'User') {
        const ref = this.get(target, String(v));
        if (!ref) {
          throw new SfError(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [f.name]);
        }
        if (ref.IsDeleted === true)
          throw new SfError(400, 'ENTITY_IS_DELETED', 'entity is deleted', [f.name]);
      }
    }
    for (const f of def.fields) {
      if (!f.unique || values[f.name] === undefined || values[f.name] === null) continue;
      const clash = this.findBy(def, f, values[f.name]!, current?.Id as string | undefined)[0];
      if (clash) {
        throw new SfError(
          400,
          'DUPLICATE_VALUE',
          `duplicate value found: ${f.name} duplicates value on record with id: ${String(clash.Id)}`,
        );
      }
    }
    return values;
  }

  /** Server-derived fields: Opportunity's IsClosed/IsWon follow the stage, as in a default org. */
  private derive(def: ObjectDef, row: Row): void {
    if (def.name === 'Opportunity') {
      const stage = String(row.StageName ?? '');
      row.IsClosed = stage.startsWith('Closed');
      row.IsWon = stage === 'Closed Won';
    }
  }

  insert(def: ObjectDef, body: Record<string, unknown>, ctx: DmlContext): string {
    const values = this.prepare(def, body, 'create');
    const id = this.ids.next(def.keyPrefix);
    const ts = Math.floor(ctx.now / 1000) * 1000; // SF keeps datetimes to the second
    const row: Row = {};
    for (const f of def.fields) row[f.name] = null;
    Object.assign(row, values, {
      Id: id,
      IsDeleted: false,
      OwnerId: values.OwnerId ?? ctx.userId,
      CreatedDate: ts,
      CreatedById: ctx.userId,
      LastModifiedDate: ts,
      LastModifiedById: ctx.userId,
      SystemModstamp: ts,
    });
    for (const f of def.fields) {
      if (f.type === 'boolean' && row[f.name] === null) row[f.name] = false;
    }
    if (def.name === 'Order') {
      row.OrderNumber = String(this.orderNumber++).padStart(8, '0');
      row.TotalAmount = 0;
    }
    this.derive(def, row);
    this.put(def.name, id, row);
    const eventValues: Row = {};
    for (const [k, v] of Object.entries(row)) if (v !== null && !NOT_IN_EVENTS.has(k)) eventValues[k] = v;
    ctx.changes.push({
      entityName: def.name,
      id,
      changeType: 'CREATE',
      changedFields: [],
      values: eventValues,
      userId: ctx.userId,
      at: ts,
    });
    return id;
  }

  /** Throws NOT_FOUND / ENTITY_IS_DELETED the way SF does for a stale id. */
  live(def: ObjectDef, id: string): Row {
    const id18 = normalizeId(id);
    const row = id18 ? this.get(def.name, id18) : undefined;
    if (!row) throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (row.IsDeleted === true) throw new SfError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    return row;
  }

  update(def: ObjectDef, id: string, body: Record<string, unknown>, ctx: DmlContext): void {
    const row = this.live(def, id);
    const values = this.prepare(def, body, 'update', row);
    const next: Row = { ...row, ...values };
    this.derive(def, next);
    const changed = def.fields
      .map((f) => f.name)
      .filter((name) => !['LastModifiedDate', 'SystemModstamp', 'LastModifiedById'].includes(name))
      .filter((name) => next[name] !== row[name]);
    const ts = Math.floor(ctx.now / 1000) * 1000;
    next.LastModifiedDate = ts;
    next.SystemModstamp = ts;
    next.LastModifiedById = ctx.userId;
    if (row.LastModifiedById !== ctx.userId) changed.push('LastModifiedById');
    changed.push('LastModifiedDate');
    this.put(def.name, String(row.Id), next);
    const eventValues: Row = {};
    for (const name of changed) eventValues[name] = next[name] ?? null;
    ctx.changes.push({
      entityName: def.name,
      id: String(row.Id),
      changeType: 'UPDATE',
      changedFields: changed,
      values: eventValues,
      userId: ctx.userId,
      at: ts,
    });
  }

  /** Soft delete: the row stays (IsDeleted = true) so queryAll still sees it, like the recycle bin. */
  delete(def: ObjectDef, id: string, ctx: DmlContext): string {
    const row = this.live(def, id);
    const ts = Math.floor(ctx.now / 1000) * 1000;
    this.put(def.name, String(row.Id), {
      ...row,
      IsDeleted: true,
      LastModifiedDate: ts,
      SystemModstamp: ts,
      LastModifiedById: ctx.userId,
    });
    ctx.changes.push({
      entityName: def.name,
      id: String(row.Id),
      changeType: 'DELETE',
      changedFields: [],
      values: {},
      userId: ctx.userId,
      at: ts,
    });
    return String(row.Id);
  }

  /**
   * Upsert by an external id field (or Id). Returns the match outcome so the caller can answer 201/200/300.
   */
  upsert(
    def: ObjectDef,
    field: FieldDef,
    value: string,
    body: Record<string, unknown>,
    ctx: DmlContext,
  ): { id: string; created: boolean } | { multiple: string[] } {
    const lowerKeys = Object.keys(body).map((k) => k.toLowerCase());
    if (lowerKeys.includes('id')) {
      throw new SfError(400, 'INVALID_FIELD', 'The Id field should not be specified in the sobject data.');
    }
    if (field.name !== 'Id' && lowerKeys.includes(field.name.toLowerCase())) {
      throw new SfError(
        400,
        'INVALID_FIELD',
        `The ${field.name} field should not be specified in the sobject data.`,
      );
    }
    if (field.name === 'Id') {
      const row = this.live(def, value);
      this.update(def, String(row.Id), body, ctx);
      return { id: String(row.Id), created: false };
    }
    const key = coerceInput(field, value);
    const matches = key === null ? [] : this.findBy(def, field, key);
    if (matches.length > 1) return { multiple: matches.map((r) => String(r.Id)) };
    if (matches.length === 1) {
      const id = String(matches[0]!.Id);
      this.update(def, id, body, ctx);
      return { id, created: false };
    }
    const id = this.insert(def, { ...body, [field.name]: value }, ctx);
    return { id, created: true };
  }

  /** Inserts a row as given (tests, seed data), filling server fields; no validation beyond types. */
  seed(def: ObjectDef, fields: Record<string, unknown>, ctx: DmlContext): string {
    const { Id: _ignored, ...rest } = fields;
    const writable: Record<string, unknown> = {};
    const server: Row = {};
    for (const [k, v] of Object.entries(rest)) {
      const f = def.byLowerName.get(k.toLowerCase());
      if (!f) throw new SfError(400, 'INVALID_FIELD', `No such column '${k}' on sobject of type ${def.name}`);
      if (f.createable) writable[f.name] = v;
      else server[f.name] = coerceInput(f, v);
    }
    const id = this.insert(def, writable, ctx);
    Object.assign(this.table(def.name).get(id)!, server);
    return id;
  }
}
