/**
 * Customer master change feed: change pointers (table BDCP2) for message type DEBMAS, written from the
 * change documents of object class DEBI whenever customer master data is committed, and read the way
 * ALE outbound programs read them:
 *
 * - `CHANGE_POINTERS_READ` (SE37 interface: MESSAGE_TYPE, CHANGE_DOCUMENT_OBJECT_CLASS,
 *   CREATION_DATE_LOW/HIGH, CREATION_TIME_LOW/HIGH, READ_NOT_PROCESSED_POINTERS; table CHANGE_POINTERS of
 *   structure BDCP; exceptions ERROR_IN_DATE_INTERVAL, ERROR_IN_TIME_INTERVAL);
 * - `CHANGE_POINTERS_READ_MODE_SET` (MESSAGE_TYPE, BLOCK_SIZE): block mode, so that consecutive reads in
 *   one session return consecutive blocks of at most BLOCK_SIZE pointers, in CPIDENT order;
 * - `CHANGE_POINTERS_STATUS_WRITE` (MESSAGE_TYPE; table CHANGE_POINTERS_IDENTS of BDICPIDENT): flags
 *   pointers processed. It updates the database directly (no update task), so the RFC's implicit
 *   database commit makes it permanent without BAPI_TRANSACTION_COMMIT.
 *
 * Also `BAPI_CUSTOMER_CHANGEFROMDATA1` (Customer.ChangeFromData1): changes the fields flagged in the
 * PI_COMPANYDATAX / PI_PERSONALDATAX structures; an update BAPI like the create, so its work waits in
 * the session's LUW for BAPI_TRANSACTION_COMMIT.
 *
 * The pointers come from a before/after comparison of the customer master at commit, which is how
 * change documents are produced: one pointer with FLDNAME `KEY` (CDCHGID `I`) for a new customer, one
 * per changed field (CDCHGID `U`) for a change.
 */
import type { FastifyInstance } from 'fastify';
import { alpha, COUNTRIES, LANGUAGES, unalpha } from './store';
import type { Kna1Record, SapStore } from './store';
import { bapiret1, msg } from './messages';
import type { SapMessage } from './messages';
import { rows, str } from './functions';
import type { CallContext, Session } from './functions';

/** BDCP as CHANGE_POINTERS_READ returns it. */
export interface ChangePointer {
  CPIDENT: string;
  TABNAME: string;
  TABKEY: string;
  FLDNAME: string;
  /** Creation time stamp YYYYMMDDhhmmss (UTC). */
  CRETIME: string;
  ACTTIME: string;
  USERNAME: string;
  CDOBJCL: string;
  CDOBJID: string;
  CDCHGNO: string;
  CDCHGID: 'I' | 'U' | 'D';
  PROCESS: '' | 'X';
  MESTYPE: string;
}

/** An RFC exception raised by a function module (becomes a SOAP fault naming it). */
export class RfcException extends Error {
  constructor(
    readonly functionName: string,
    readonly exception: string,
    text: string,
  ) {
    super(text);
  }
}

/** Customer master fields that are distributed with DEBMAS (the rest are internal). */
const TRACKED_FIELDS: (keyof Kna1Record)[] = [
  'NAME1',
  'NAME2',
  'SORTL',
  'STRAS',
  'ORT01',
  'PSTLZ',
  'REGIO',
  'LAND1',
  'TELF1',
  'SPRAS',
  'LOEVM',
  'AUFSD',
];

export const MESSAGE_TYPE_DEBMAS = 'DEBMAS';

type CompanyChange = Partial<
  Record<'NAME1' | 'NAME2' | 'STRAS' | 'ORT01' | 'PSTLZ' | 'LAND1' | 'REGIO' | 'TELF1' | 'SPRAS', string>
>;

interface PendingChange {
  kunnr: string;
  fields: CompanyChange;
  email?: string;
}

/** "YYYYMMDDhhmmss" in UTC. */
export function sapTimestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** CREATION_DATE (YYYY-MM-DD) + CREATION_TIME (hh:mm:ss) -> "YYYYMMDDhhmmss". */
function stampOf(date: string, time: string, fallbackTime: string): string | undefined {
  if (!date) return undefined;
  return `${date.replace(/-/g, '')}${(time || fallbackTime).replace(/:/g, '')}`;
}

export interface ChangePointerDeps {
  store: SapStore;
  client: string;
  now: () => Date;
}

export class ChangePointerLog {
  private pointers: ChangePointer[] = [];
  private nextIdent = 1;
  private nextChangeNumber = 1;
  /** BLOCK_SIZE per session and message type, and the last CPIDENT that session's block read returned. */
  private readonly blockMode = new WeakMap<Session, Map<string, { size: number; after: string }>>();
  /** Uncommitted BAPI_CUSTOMER_CHANGEFROMDATA1 work, per session (the LUW). */
  private readonly pending = new WeakMap<Session, PendingChange[]>();

  constructor(private readonly deps: ChangePointerDeps) {}

  reset(): void {
    this.pointers = [];
    this.nextIdent = 1;
    this.nextChangeNumber = 1;
  }

  list(): ChangePointer[] {
    return this.pointers.map((p) => ({ ...p }));
  }

  /** Starts capturing the before-images of the customers written until record() (one commit's changes). */
  captureChanges(): Map<string, Kna1Record | undefined> {
    return this.deps.store.customers.watch();
  }

  /** Stops a capture without writing pointers (the commit failed). */
  dropCapture(before: Map<string, Kna1Record | undefined>): void {
    this.deps.store.customers.unwatch(before);
  }

  /** Writes the change documents' pointers for every captured customer that differs from its before-image. */
  record(before: Map<string, Kna1Record | undefined>, user: string, at: Date): number {
    this.deps.store.customers.unwatch(before);
    let written = 0;
    const stamp = sapTimestamp(at);
    for (const [kunnr, old] of before) {
      const after = this.deps.store.customers.get(kunnr);
      if (!after) continue;
      const changeNumber = String(this.nextChangeNumber).padStart(10, '0');
      const base = {
        TABNAME: 'KNA1',
        TABKEY: `${this.deps.client}${kunnr}`,
        CRETIME: stamp,
        ACTTIME: stamp,
        USERNAME: user.toUpperCase().slice(0, 12),
        CDOBJCL: 'DEBI',
        CDOBJID: kunnr,
        CDCHGNO: changeNumber,
        PROCESS: '' as const,
        MESTYPE: MESSAGE_TYPE_DEBMAS,
      };
      const add = (FLDNAME: string, CDCHGID: ChangePointer['CDCHGID']) => {
        this.pointers.push({
          CPIDENT: String(this.nextIdent++).padStart(20, '0'),
          FLDNAME,
          CDCHGID,
          ...base,
        });
        written += 1;
      };
      if (!old) {
        add('KEY', 'I');
      } else {
        const changed = TRACKED_FIELDS.filter((f) => old[f] !== after[f]);
        for (const f of changed) add(f, 'U');
        if (changed.length === 0) continue;
      }
      this.nextChangeNumber += 1;
    }
    return written;
  }

  /** Applies this session's pending customer changes (called inside COMMIT WORK). */
  applyPending(session: Session): void {
    const list = this.pending.get(session) ?? [];
    this.pending.delete(session);
    const { store } = this.deps;
    for (const change of list) {
      const c = store.customers.get(change.kunnr);
      if (!c) continue;
      store.customers.set(c.KUNNR, { ...c, ...change.fields });
      if (change.email !== undefined) {
        store.emails = store.emails.filter((e) => !(e.ADDRNUMBER === c.ADRNR && e.FLGDEFAULT === 'X'));
        if (change.email) {
          store.emails.push({
            ADDRNUMBER: c.ADRNR,
            PERSNUMBER: '',
            DATE_FROM: '0001-01-01',
            CONSNUMBER: '001',
            FLGDEFAULT: 'X',
            SMTP_ADDR: change.email,
            SMTP_SRCH: change.email.toUpperCase().slice(0, 20),
          });
        }
      }
    }
  }

  /** ROLLBACK WORK / session end: pending changes are gone, and so is the session's block position. */
  discard(session: Session): void {
    this.pending.delete(session);
  }

  // ------------------------------------------------------------------ function modules

  CHANGE_POINTERS_READ_MODE_SET(args: Record<string, unknown>, ctx: CallContext): Record<string, unknown> {
    const mestyp = str(args.MESSAGE_TYPE).toUpperCase();
    const size = Number(str(args.BLOCK_SIZE) || '0');
    let modes = this.blockMode.get(ctx.session);
    if (!modes) {
      modes = new Map();
      this.blockMode.set(ctx.session, modes);
    }
    if (!(size > 0)) modes.delete(mestyp);
    else modes.set(mestyp, { size: Math.floor(size), after: '' });
    return {};
  }

  CHANGE_POINTERS_READ(args: Record<string, unknown>, ctx: CallContext): Record<string, unknown> {
    const fm = 'CHANGE_POINTERS_READ';
    const mestyp = str(args.MESSAGE_TYPE).toUpperCase();
    const objectClass = str(args.CHANGE_DOCUMENT_OBJECT_CLASS).toUpperCase();
    const dateLow = str(args.CREATION_DATE_LOW);
    const dateHigh = str(args.CREATION_DATE_HIGH);
    const timeLow = str(args.CREATION_TIME_LOW);
    const timeHigh = str(args.CREATION_TIME_HIGH);
    const low = stampOf(dateLow, timeLow, '00:00:00');
    const high = stampOf(dateHigh, timeHigh, '23:59:59');
    if (dateLow && dateHigh && dateLow > dateHigh)
      throw new RfcException(fm, 'ERROR_IN_DATE_INTERVAL', 'Creation date interval is invalid');
    if (low && high && low > high)
      throw new RfcException(fm, 'ERROR_IN_TIME_INTERVAL', 'Creation time interval is invalid');
    const notProcessedOnly = str(args.READ_NOT_PROCESSED_POINTERS).toUpperCase() === 'X';
    const mode = this.blockMode.get(ctx.session)?.get(mestyp);
    const selected: ChangePointer[] = [];
    for (const p of this.pointers) {
      if (mestyp && p.MESTYPE !== mestyp) continue;
      if (objectClass && p.CDOBJCL !== objectClass) continue;
      if (notProcessedOnly && p.PROCESS === 'X') continue;
      if (low && p.CRETIME < low) continue;
      if (high && p.CRETIME > high) continue;
      if (mode && p.CPIDENT <= mode.after) continue;
      selected.push(p);
      if (mode && selected.length >= mode.size) break;
    }
    if (mode && selected.length > 0) mode.after = selected[selected.length - 1]!.CPIDENT;
    return { CHANGE_POINTERS: { item: selected.map((p) => ({ ...p })) } };
  }

  CHANGE_POINTERS_STATUS_WRITE(args: Record<string, unknown>): Record<string, unknown> {
    const mestyp = str(args.MESSAGE_TYPE).toUpperCase();
    const idents = new Set(rows(args.CHANGE_POINTERS_IDENTS).map((r) => str(r.CPIDENT).padStart(20, '0')));
    for (const p of this.pointers) {
      if (idents.has(p.CPIDENT) && (!mestyp || p.MESTYPE === mestyp)) p.PROCESS = 'X';
    }
    return { CHANGE_POINTERS_IDENTS: args.CHANGE_POINTERS_IDENTS ?? {} };
  }

  BAPI_CUSTOMER_CHANGEFROMDATA1(args: Record<string, unknown>, ctx: CallContext): Record<string, unknown> {
    const kunnr = alpha(str(args.CUSTOMERNO));
    const fail = (m: SapMessage) => ({ PE_COMPANYDATA: {}, PE_PERSONALDATA: {}, RETURN: bapiret1(m) });
    const customer = this.deps.store.customers.get(kunnr);
    if (!kunnr || !customer) return fail(msg('E', 'unknownCustomer', [unalpha(kunnr)]));
    const company = struct(args.PI_COMPANYDATA);
    const companyX = struct(args.PI_COMPANYDATAX);
    const personal = struct(args.PI_PERSONALDATA);
    const personalX = struct(args.PI_PERSONALDATAX);
    const usePersonal = Object.keys(personalX).length > 0 && Object.keys(companyX).length === 0;
    const data = usePersonal ? personal : company;
    const flags = usePersonal ? personalX : companyX;
    const param = usePersonal ? 'PI_PERSONALDATA' : 'PI_COMPANYDATA';
    const flagged = (field: string) => str(flags[field]).toUpperCase() === 'X';
    const value = (field: string) => str(data[field]);
    const lengths: Record<string, number> = {
      NAME: 35,
      NAME_2: 35,
      FIRSTNAME: 35,
      LASTNAME: 35,
      STREET: 60,
      HOUSE_NO: 10,
      CITY: 40,
      POSTL_COD1: 10,
      COUNTRY: 3,
      REGION: 3,
      TEL1_NUMBR: 30,
      E_MAIL: 241,
    };
    for (const [field, max] of Object.entries(lengths)) {
      if (flagged(field) && value(field).length > max)
        return fail(msg('E', 'valueTooLong', [`${param}-${field}`, String(max)]));
    }
    const fields: CompanyChange = {};
    if (usePersonal) {
      if (flagged('FIRSTNAME') || flagged('LASTNAME')) {
        const last = flagged('LASTNAME') ? value('LASTNAME') : '';
        if (flagged('LASTNAME') && !last) return fail(msg('E', 'requiredFields', [`${param}-LASTNAME`]));
        fields.NAME1 = [value('FIRSTNAME'), last].filter(Boolean).join(' ').slice(0, 35);
      }
    } else {
      if (flagged('NAME')) {
        if (!value('NAME')) return fail(msg('E', 'requiredFields', [`${param}-NAME`]));
        fields.NAME1 = value('NAME');
      }
      if (flagged('NAME_2')) fields.NAME2 = value('NAME_2');
    }
    if (flagged('STREET') || flagged('HOUSE_NO')) {
      fields.STRAS = [value('STREET'), value('HOUSE_NO')].filter(Boolean).join(' ').slice(0, 35);
    }
    if (flagged('CITY')) {
      if (!value('CITY')) return fail(msg('E', 'requiredFields', [`${param}-CITY`]));
      fields.ORT01 = value('CITY').slice(0, 35);
    }
    if (flagged('POSTL_COD1')) fields.PSTLZ = value('POSTL_COD1');
    if (flagged('COUNTRY') || flagged('COUNTRYISO')) {
      const country = (value('COUNTRY') || value('COUNTRYISO')).toUpperCase();
      if (!country) return fail(msg('E', 'requiredFields', [`${param}-COUNTRY`]));
      if (!(COUNTRIES as readonly string[]).includes(country))
        return fail(msg('E', 'unknownCountry', [country]));
      fields.LAND1 = country;
    }
    if (flagged('REGION')) fields.REGIO = value('REGION');
    if (flagged('TEL1_NUMBR')) fields.TELF1 = value('TEL1_NUMBR').slice(0, 16);
    const langField = usePersonal ? 'LANGU_P' : 'LANGU';
    const langIsoField = usePersonal ? 'LANGUP_ISO' : 'LANGU_ISO';
    if (flagged(langField) || flagged(langIsoField)) {
      const iso = value(langIsoField).toUpperCase();
      const spras =
        value(langField).toUpperCase() ||
        Object.entries(LANGUAGES).find(([, code]) => code === iso)?.[0] ||
        '';
      if (!LANGUAGES[spras]) return fail(msg('E', 'unknownLanguage', [value(langField) || iso]));
      fields.SPRAS = spras;
    }
    const change: PendingChange = { kunnr, fields };
    if (flagged('E_MAIL')) change.email = value('E_MAIL');
    const list = this.pending.get(ctx.session) ?? [];
    list.push(change);
    this.pending.set(ctx.session, list);
    const merged = { ...customer, ...fields };
    const echo = usePersonal
      ? {
          PE_PERSONALDATA: { LASTNAME: merged.NAME1, CITY: merged.ORT01, COUNTRY: merged.LAND1 },
          PE_COMPANYDATA: {},
        }
      : {
          PE_COMPANYDATA: {
            NAME: merged.NAME1,
            NAME_2: merged.NAME2,
            STREET: merged.STRAS,
            CITY: merged.ORT01,
            POSTL_COD1: merged.PSTLZ,
            COUNTRY: merged.LAND1,
            REGION: merged.REGIO,
            TEL1_NUMBR: merged.TELF1,
          },
          PE_PERSONALDATA: {},
        };
    return { ...echo, RETURN: bapiret1() };
  }

  /** A customer created by a dialog user in XD01 (committed at once), copied from the reference customer. */
  createAsDialogUser(fields: Partial<Kna1Record> & { NAME1: string }, user: string): Kna1Record {
    const { store } = this.deps;
    const kunnr = store.customerNumbers.reserve();
    const adrnr = store.addressNumbers.reserve();
    store.customerNumbers.confirm(kunnr);
    store.addressNumbers.confirm(adrnr);
    const at = this.deps.now();
    const { KUNNR: _k, ...rest } = fields;
    const c: Kna1Record = {
      NAME2: '',
      SORTL: fields.NAME1.toUpperCase().slice(0, 10),
      STRAS: '',
      ORT01: '',
      PSTLZ: '',
      REGIO: '',
      LAND1: 'DE',
      TELF1: '',
      SPRAS: 'E',
      KTOKD: '0001',
      LOEVM: '',
      AUFSD: '',
      ERDAT: at.toISOString().slice(0, 10),
      ERNAM: user.toUpperCase(),
      ADRNR: adrnr,
      salesAreas: ['1000/10/00'],
      WAERK: 'EUR',
      ...rest,
      KUNNR: kunnr,
    };
    const before = this.captureChanges();
    store.customers.set(kunnr, c);
    this.record(before, user, at);
    return c;
  }

  /** A change made by a dialog user in XD02 (committed at once): the test stand-in for SAP GUI work. */
  changeAsDialogUser(kunnr: string, fields: Partial<Kna1Record>, user: string): Kna1Record | undefined {
    const key = alpha(kunnr);
    const c = this.deps.store.customers.get(key);
    if (!c) return undefined;
    const before = this.captureChanges();
    const { KUNNR: _k, salesAreas: _s, ...rest } = fields;
    this.deps.store.customers.set(key, { ...c, ...rest });
    this.record(before, user, this.deps.now());
    return this.deps.store.customers.get(key);
  }
}

function struct(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export const CHANGE_POINTER_FUNCTIONS = [
  'BAPI_CUSTOMER_CHANGEFROMDATA1',
  'CHANGE_POINTERS_READ',
  'CHANGE_POINTERS_READ_MODE_SET',
  'CHANGE_POINTERS_STATUS_WRITE',
] as const;
export type ChangePointerFunction = (typeof CHANGE_POINTER_FUNCTIONS)[number];

/** Update functions among them: their work waits in the LUW. */
export const CHANGE_POINTER_UPDATE_FUNCTIONS = new Set<string>(['BAPI_CUSTOMER_CHANGEFROMDATA1']);

/** Admin routes: the pointer table and the dialog-user stand-ins for XD01 / XD02. */
export function registerChangePointerAdmin(
  app: FastifyInstance,
  log: ChangePointerLog,
  dialogUser: string,
): void {
  app.get('/__admin/change-pointers', async () => log.list());
  app.post('/__admin/customers', async (req, reply) => {
    const body = (req.body ?? {}) as Partial<Kna1Record> & { user?: string };
    const { user, ...fields } = body;
    if (typeof fields.NAME1 !== 'string' || fields.NAME1.trim() === '')
      return reply.code(400).send({ error: 'NAME1 is required' });
    return reply
      .code(201)
      .send(log.createAsDialogUser({ ...fields, NAME1: fields.NAME1 }, user ?? dialogUser));
  });
  app.post('/__admin/customers/:kunnr', async (req, reply) => {
    const { kunnr } = req.params as { kunnr: string };
    const body = (req.body ?? {}) as Partial<Kna1Record> & { user?: string };
    const { user, ...fields } = body;
    const changed = log.changeAsDialogUser(kunnr, fields, user ?? dialogUser);
    if (!changed) return reply.code(404).send({ error: `Customer ${kunnr} does not exist` });
    return changed;
  });
}
