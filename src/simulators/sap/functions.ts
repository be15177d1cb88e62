/**
 * The function modules behind the SOAP operations, written against SAP's semantics: update BAPIs only
 * record their work in the caller's LUW, BAPI_TRANSACTION_COMMIT applies it, business errors come back
 * as RETURN rows (never as exceptions). Arguments arrive as node-soap parsed them from the WSDL.
 */
import { randomBytes } from 'node:crypto';
import { alpha, COUNTRIES, LANGUAGES, ORDER_TYPES, PARTNER_FUNCTIONS, unalpha } from './store';
import type { Kna1Record, SapStore, VbakRecord, VbapRecord, VbpaRecord } from './store';
import { bapiret1, bapiret2, bapireturn, msg } from './messages';
import type { SapMessage } from './messages';

export type LuwEntry =
  | { kind: 'customer.create'; customer: Kna1Record; email: string }
  | { kind: 'customer.blocks'; kunnr: string; LOEVM: string; AUFSD: string }
  | { kind: 'order.create'; order: VbakRecord }
  | {
      kind: 'order.change';
      vbeln: string;
      header: Partial<Pick<VbakRecord, ChangeableHeaderField>>;
      itemQuantities: Record<string, number>;
      changedFields: string[];
    };

export interface Session {
  id: string;
  contextId: string;
  user: string;
  createdAt: string;
  lastUsedMs: number;
  luw: LuwEntry[];
}

export interface CallContext {
  session: Session;
  user: string;
  now: Date;
}

export interface CommittedOrderEvent {
  type: 'sap.salesorder.created' | 'sap.salesorder.changed';
  order: VbakRecord;
  changedBy: string;
  changedAt: Date;
  changedFields?: string[];
}

type Args = Record<string, unknown> | null | undefined;

/** node-soap gives strings, numbers, null (empty restricted types) or `{ $value }`; SAP trims CHAR fields. */
export function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && '$value' in v) return str(v.$value);
  return '';
}

function num(v: unknown): number {
  const s = str(v);
  if (s === '') return 0;
  const n = Number(s);
  return Number.isFinite(n) ? n : NaN;
}

function struct(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** A table parameter: `<T><item>…</item>…</T>`; one row may arrive as an object instead of an array. */
export function rows(v: unknown): Record<string, unknown>[] {
  const item = struct(v).item;
  if (item === undefined || item === null) return [];
  return (Array.isArray(item) ? item : [item]).map(struct);
}

function sapDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function sapTime(d: Date): string {
  return d.toISOString().slice(11, 19);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** SAP decimals travel as plain numbers with a fixed number of decimals. */
function dec(n: number, decimals = 4): string {
  return n.toFixed(decimals);
}

const PERSONAL_LENGTHS: Record<string, number> = {
  TITLE_P: 30,
  FIRSTNAME: 35,
  LASTNAME: 35,
  MIDDLENAME: 35,
  SECONDNAME: 35,
  CITY: 40,
  DISTRICT: 40,
  POSTL_COD1: 10,
  POSTL_COD2: 10,
  PO_BOX: 10,
  PO_BOX_CIT: 40,
  STREET: 60,
  HOUSE_NO: 10,
  BUILDING: 20,
  FLOOR: 10,
  ROOM_NO: 10,
  COUNTRY: 3,
  COUNTRYISO: 2,
  REGION: 3,
  TEL1_NUMBR: 30,
  TEL1_EXT: 10,
  FAX_NUMBER: 30,
  FAX_EXTENS: 10,
  E_MAIL: 241,
  LANGU_P: 1,
  LANGUP_ISO: 2,
  CURRENCY: 5,
  CURRENCY_ISO: 3,
  TITLE_KEY: 4,
};

const COMPANY_LENGTHS: Record<string, number> = {
  TITLE: 30,
  TITLE_KEY: 4,
  NAME: 35,
  NAME_2: 35,
  NAME_3: 35,
  NAME_4: 35,
  C_O_NAME: 40,
  CITY: 40,
  DISTRICT: 40,
  POSTL_COD1: 10,
  POSTL_COD2: 10,
  POSTL_COD3: 10,
  PO_BOX: 10,
  PO_BOX_CIT: 40,
  STREET: 60,
  HOUSE_NO: 10,
  BUILDING: 20,
  FLOOR: 10,
  ROOM_NO: 10,
  COUNTRY: 3,
  LANGU: 1,
  REGION: 3,
  TEL1_NUMBR: 30,
  TEL1_EXT: 10,
  FAX_NUMBER: 30,
  FAX_EXTENS: 10,
  E_MAIL: 241,
  COUNTRYISO: 2,
  LANGU_ISO: 2,
  CURRENCY: 5,
  CURRENCY_ISO: 3,
};

/** KNA1 fields BAPI_CUSTOMER_FIND can search on. */
const FINDABLE_FIELDS = [
  'KUNNR',
  'NAME1',
  'NAME2',
  'SORTL',
  'ORT01',
  'PSTLZ',
  'LAND1',
  'TELF1',
  'STRAS',
  'REGIO',
];

type ChangeableHeaderField =
  'BSTKD' | 'BSTDK' | 'VDATU' | 'ZTERM' | 'INCO1' | 'INCO2' | 'AUGRU' | 'LIFSK' | 'FAKSK';

/** BAPISDH1 field -> VBAK field, for BAPI_SALESORDER_CHANGE and the admin "GUI" change. */
export const HEADER_CHANGE_FIELDS: Record<string, ChangeableHeaderField> = {
  PURCH_NO_C: 'BSTKD',
  PURCH_DATE: 'BSTDK',
  REQ_DATE_H: 'VDATU',
  PMNTTRMS: 'ZTERM',
  INCOTERMS1: 'INCO1',
  INCOTERMS2: 'INCO2',
  ORD_REASON: 'AUGRU',
  DLV_BLOCK: 'LIFSK',
  BILL_BLOCK: 'FAKSK',
};

export interface EngineOptions {
  logicalSystem: string;
  onOrderEvent(event: CommittedOrderEvent): void;
}

export class SapEngine {
  readonly sessions = new Map<string, Session>();

  constructor(
    readonly store: SapStore,
    private readonly options: EngineOptions,
  ) {}

  // ---------------------------------------------------------------- sessions and the LUW

  newSession(user: string, nowMs: number): Session {
    const id = randomBytes(24).toString('base64url');
    const session: Session = {
      id,
      contextId: `SID:ANON:simsap_DEV_00:${randomBytes(16).toString('hex').toUpperCase()}`,
      user,
      createdAt: new Date(nowMs).toISOString(),
      lastUsedMs: nowMs,
      luw: [],
    };
    this.sessions.set(id, session);
    return session;
  }

  /** ROLLBACK WORK: forget the LUW and give its reserved numbers back. */
  discard(session: Session): number {
    const count = session.luw.length;
    for (const entry of session.luw) {
      if (entry.kind === 'customer.create') {
        this.store.customerNumbers.release(entry.customer.KUNNR);
        this.store.addressNumbers.release(entry.customer.ADRNR);
      } else if (entry.kind === 'order.create') {
        this.store.orderNumbers.release(entry.order.VBELN);
      }
    }
    session.luw = [];
    return count;
  }

  endSession(session: Session): void {
    this.discard(session);
    this.sessions.delete(session.id);
  }

  /** COMMIT WORK: apply the LUW in order, then announce committed order changes. */
  commit(session: Session, now: Date): number {
    const entries = session.luw;
    session.luw = [];
    const events: CommittedOrderEvent[] = [];
    for (const entry of entries) {
      switch (entry.kind) {
        case 'customer.create': {
          const c = entry.customer;
          this.store.customerNumbers.confirm(c.KUNNR);
          this.store.addressNumbers.confirm(c.ADRNR);
          this.store.customers.set(c.KUNNR, c);
          if (entry.email) {
            this.store.emails.push({
              ADDRNUMBER: c.ADRNR,
              PERSNUMBER: '',
              DATE_FROM: '0001-01-01',
              CONSNUMBER: '001',
              FLGDEFAULT: 'X',
              SMTP_ADDR: entry.email,
              SMTP_SRCH: entry.email.toUpperCase().slice(0, 20),
            });
          }
          break;
        }
        case 'customer.blocks': {
          const c = this.store.customers.get(entry.kunnr);
          if (c) this.store.customers.set(c.KUNNR, { ...c, LOEVM: entry.LOEVM, AUFSD: entry.AUFSD });
          break;
        }
        case 'order.create': {
          this.store.orderNumbers.confirm(entry.order.VBELN);
          this.store.orders.set(entry.order.VBELN, entry.order);
          events.push({
            type: 'sap.salesorder.created',
            order: entry.order,
            changedBy: session.user,
            changedAt: now,
          });
          break;
        }
        case 'order.change': {
          const updated = this.applyOrderChange(
            entry.vbeln,
            entry.header,
            entry.itemQuantities,
            session.user,
            now,
          );
          if (updated) {
            events.push({
              type: 'sap.salesorder.changed',
              order: updated,
              changedBy: session.user,
              changedAt: now,
              changedFields: entry.changedFields,
            });
          }
          break;
        }
      }
    }
    for (const e of events) this.options.onOrderEvent(e);
    return entries.length;
  }

  applyOrderChange(
    vbeln: string,
    header: Partial<Pick<VbakRecord, ChangeableHeaderField>>,
    itemQuantities: Record<string, number>,
    user: string,
    now: Date,
  ): VbakRecord | undefined {
    const order = this.store.orders.get(vbeln);
    if (!order) return undefined;
    const items = order.items.map((it) =>
      itemQuantities[it.POSNR] === undefined
        ? it
        : { ...it, KWMENG: itemQuantities[it.POSNR]!, NETWR: round2(it.NETPR * itemQuantities[it.POSNR]!) },
    );
    const updated: VbakRecord = {
      ...order,
      ...header,
      items,
      NETWR: round2(items.reduce((s, it) => s + it.NETWR, 0)),
      AEDAT: sapDate(now),
      AENAM: user,
    };
    this.store.orders.set(vbeln, updated);
    return updated;
  }

  /** The SAP user whose open LUW holds this sales document (an enqueue lock), if another session has one. */
  orderLockedBy(vbeln: string, except?: Session): string | undefined {
    for (const s of this.sessions.values()) {
      if (s === except) continue;
      if (
        s.luw.some(
          (e) =>
            (e.kind === 'order.change' && e.vbeln === vbeln) ||
            (e.kind === 'order.create' && e.order.VBELN === vbeln),
        )
      ) {
        return s.user;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- customers

  BAPI_CUSTOMER_CREATEFROMDATA1(args: Args, ctx: CallContext): Record<string, unknown> {
    const a = struct(args);
    const fail = (m: SapMessage) => ({ CUSTOMERNO: '', RETURN: bapiret1(m) });
    const ref = struct(a.PI_COPYREFERENCE);
    const salesorg = str(ref.SALESORG);
    const distr = str(ref.DISTR_CHAN);
    const division = str(ref.DIVISION);
    const refCustomer = alpha(str(ref.REF_CUSTMR));
    for (const [field, value] of [
      ['SALESORG', salesorg],
      ['DISTR_CHAN', distr],
      ['DIVISION', division],
      ['REF_CUSTMR', refCustomer],
    ] as const) {
      if (!value) return fail(msg('E', 'requiredFields', [`PI_COPYREFERENCE-${field}`]));
    }
    if (!this.store.isSalesArea(salesorg, distr, division)) {
      return fail(msg('E', 'unknownSalesArea', [salesorg, distr, division]));
    }
    const reference = this.store.customers.get(refCustomer);
    if (!reference || !reference.salesAreas.includes(`${salesorg}/${distr}/${division}`)) {
      return fail(msg('E', 'unknownReferenceCustomer', [unalpha(refCustomer), salesorg, distr, division]));
    }

    const personal = a.PI_PERSONALDATA ? struct(a.PI_PERSONALDATA) : undefined;
    const company = a.PI_COMPANYDATA ? struct(a.PI_COMPANYDATA) : undefined;
    const data = personal ?? company;
    if (!data) return fail(msg('E', 'requiredFields', ['PI_PERSONALDATA']));
    const param = personal ? 'PI_PERSONALDATA' : 'PI_COMPANYDATA';
    const lengths = personal ? PERSONAL_LENGTHS : COMPANY_LENGTHS;
    for (const [field, max] of Object.entries(lengths)) {
      const value = str(data[field]);
      if (value.length > max) return fail(msg('E', 'valueTooLong', [`${param}-${field}`, String(max)]));
    }
    const f = (field: string) => str(data[field]);
    const name1 = personal ? [f('FIRSTNAME'), f('LASTNAME')].filter(Boolean).join(' ') : f('NAME');
    const nameField = personal ? 'LASTNAME' : 'NAME';
    if (!f(nameField)) return fail(msg('E', 'requiredFields', [`${param}-${nameField}`]));
    if (!f('CITY')) return fail(msg('E', 'requiredFields', [`${param}-CITY`]));
    const country = (f('COUNTRY') || f('COUNTRYISO')).toUpperCase();
    if (!country) return fail(msg('E', 'requiredFields', [`${param}-COUNTRY`]));
    if (!(COUNTRIES as readonly string[]).includes(country))
      return fail(msg('E', 'unknownCountry', [country]));
    const langKey = personal ? f('LANGU_P') : f('LANGU');
    const langIso = (personal ? f('LANGUP_ISO') : f('LANGU_ISO')).toUpperCase();
    let spras = langKey.toUpperCase();
    if (!spras && langIso) spras = Object.entries(LANGUAGES).find(([, iso]) => iso === langIso)?.[0] ?? '';
    if (!langKey && !langIso)
      return fail(msg('E', 'requiredFields', [`${param}-${personal ? 'LANGU_P' : 'LANGU'}`]));
    if (!LANGUAGES[spras]) return fail(msg('E', 'unknownLanguage', [langKey || langIso]));

    const kunnr = this.store.customerNumbers.reserve();
    const adrnr = this.store.addressNumbers.reserve();
    const street = [f('STREET'), f('HOUSE_NO')].filter(Boolean).join(' ');
    const customer: Kna1Record = {
      KUNNR: kunnr,
      NAME1: name1.slice(0, 35),
      NAME2: personal ? '' : f('NAME_2'),
      // SAP proposes the search term from the name when none is given (the create BAPI has no field for it).
      SORTL: (personal ? f('LASTNAME') : f('NAME')).toUpperCase().slice(0, 10),
      STRAS: street.slice(0, 35),
      ORT01: f('CITY').slice(0, 35),
      PSTLZ: f('POSTL_COD1'),
      REGIO: f('REGION'),
      LAND1: country,
      TELF1: f('TEL1_NUMBR').slice(0, 16),
      SPRAS: spras,
      KTOKD: reference.KTOKD,
      LOEVM: '',
      AUFSD: '',
      ERDAT: sapDate(ctx.now),
      ERNAM: ctx.user,
      ADRNR: adrnr,
      salesAreas: [`${salesorg}/${distr}/${division}`],
      WAERK: f('CURRENCY') || this.store.salesOrg(salesorg)?.WAERS || 'EUR',
    };
    ctx.session.luw.push({ kind: 'customer.create', customer, email: f('E_MAIL') });
    return { CUSTOMERNO: kunnr, RETURN: bapiret1() };
  }

  BAPI_CUSTOMER_GETDETAIL2(args: Args): Record<string, unknown> {
    const a = struct(args);
    const kunnr = alpha(str(a.CUSTOMERNO));
    const c = this.store.customers.get(kunnr);
    if (!c) {
      return {
        CUSTOMERADDRESS: {},
        CUSTOMERBANKDETAIL: {},
        CUSTOMERCOMPANYDETAIL: {},
        CUSTOMERGENERALDETAIL: {},
        RETURN: bapiret1(msg('E', 'unknownCustomer', [unalpha(kunnr)])),
      };
    }
    return {
      CUSTOMERADDRESS: {
        CUSTOMER: c.KUNNR,
        NAME: c.NAME1,
        NAME_2: c.NAME2,
        CITY: c.ORT01,
        POSTL_CODE: c.PSTLZ,
        REGION: c.REGIO,
        STREET: c.STRAS,
        TELEPHONE: c.TELF1,
        COUNTRY: c.LAND1,
        COUNTRYISO: c.LAND1,
        LANGU: c.SPRAS,
        LANGU_ISO: LANGUAGES[c.SPRAS] ?? '',
        SORT_FLD: c.SORTL,
      },
      CUSTOMERBANKDETAIL: {},
      CUSTOMERCOMPANYDETAIL: { CUSTOMER: c.KUNNR, COMP_CODE: str(a.COMPANYCODE) },
      CUSTOMERGENERALDETAIL: {
        CUSTOMER: c.KUNNR,
        ADDRESS: c.ADRNR,
        ORDR_BLK_G: c.AUFSD,
        CREAT_DATE: c.ERDAT,
        ENTERED_BY: c.ERNAM,
        ACCNT_GRP: c.KTOKD,
        DEL_FLAG_G: c.LOEVM,
        CURRENCY: c.WAERK,
        CURRENCY_ISO: c.WAERK,
      },
      RETURN: bapiret1(),
    };
  }

  BAPI_CUSTOMER_FIND(args: Args): Record<string, unknown> {
    const a = struct(args);
    const selopt = rows(a.SELOPT_TAB);
    const maxCnt = num(a.MAX_CNT) || 0;
    const wildcard = str(a.PL_HOLD).toUpperCase() === 'X';
    const resultRows: Record<string, unknown>[] = [];
    let failure: SapMessage | undefined;
    let matches = [...this.store.customers.values()];
    for (const row of selopt) {
      const tab = str(row.TABNAME).toUpperCase() || 'KNA1';
      const field = str(row.FIELDNAME).toUpperCase();
      if (tab !== 'KNA1' || !FINDABLE_FIELDS.includes(field)) {
        failure = msg('E', 'findFieldNotSupported', [tab, field]);
        matches = [];
        break;
      }
      const pattern = str(row.FIELDVALUE);
      const test = wildcard ? likePattern(pattern) : (v: string) => v.toUpperCase() === pattern.toUpperCase();
      matches = matches.filter((c) => {
        const value = String(c[field as keyof Kna1Record] ?? '');
        return test(value) || (field === 'KUNNR' && !wildcard && value === alpha(pattern));
      });
    }
    if (!failure && selopt.length > 0) {
      const limited = maxCnt > 0 ? matches.slice(0, maxCnt) : matches;
      const first = selopt[0]!;
      const field = str(first.FIELDNAME).toUpperCase();
      for (const c of limited.sort((x, y) => x.KUNNR.localeCompare(y.KUNNR))) {
        resultRows.push({
          COMP_CODE: str(first.COMP_CODE),
          TABNAME: 'KNA1',
          FIELDNAME: field,
          FIELDVALUE: String(c[field as keyof Kna1Record] ?? ''),
          CUSTOMER: c.KUNNR,
          PSTG_BLK_G: '',
          PSTG_BLK_C: '',
          DEL_FLAG_G: c.LOEVM,
          DEL_FLAG_C: '',
          ...bapiret1(),
        });
      }
    }
    return { RETURN: bapiret1(failure), RESULT_TAB: { item: resultRows }, SELOPT_TAB: { item: selopt } };
  }

  Z_CUSTOMER_SET_BLOCKS(args: Args, ctx: CallContext): Record<string, unknown> {
    const a = struct(args);
    const kunnr = alpha(str(a.CUSTOMERNO));
    const sys = this.options.logicalSystem;
    const c = this.store.customers.get(kunnr);
    if (!c)
      return {
        RETURN: bapiret2(msg('E', 'unknownCustomer', [unalpha(kunnr)], { parameter: 'CUSTOMERNO' }), sys),
      };
    const loevm = str(a.DELETION_FLAG).toUpperCase();
    if (loevm !== '' && loevm !== 'X') {
      return {
        RETURN: bapiret2(msg('E', 'invalidDeletionFlag', [loevm], { parameter: 'DELETION_FLAG' }), sys),
      };
    }
    const aufsd = str(a.ORDER_BLOCK).toUpperCase();
    if (aufsd !== '' && !/^[0-9A-Z]{2}$/.test(aufsd)) {
      return { RETURN: bapiret2(msg('E', 'invalidOrderBlock', [aufsd], { parameter: 'ORDER_BLOCK' }), sys) };
    }
    ctx.session.luw.push({ kind: 'customer.blocks', kunnr, LOEVM: loevm, AUFSD: aufsd });
    return { RETURN: bapiret2(msg('S', 'blocksUpdated', [unalpha(kunnr), loevm, aufsd]), sys) };
  }

  // ---------------------------------------------------------------- sales orders

  BAPI_SALESORDER_CREATEFROMDAT2(args: Args, ctx: CallContext): Record<string, unknown> {
    const a = struct(args);
    const sys = this.options.logicalSystem;
    const echo = {
      ORDER_ITEMS_IN: a.ORDER_ITEMS_IN ?? {},
      ORDER_PARTNERS: a.ORDER_PARTNERS ?? {},
      ORDER_SCHEDULES_IN: a.ORDER_SCHEDULES_IN ?? {},
      ORDER_CONDITIONS_IN: a.ORDER_CONDITIONS_IN ?? {},
      ORDER_ITEMS_INX: a.ORDER_ITEMS_INX ?? {},
    };
    const fail = (messages: SapMessage[]) => ({
      ...echo,
      RETURN: { item: [...messages, msg('E', 'notSaved')].map((m) => bapiret2(m, sys)) },
      SALESDOCUMENT: '',
    });
    const h = struct(a.ORDER_HEADER_IN);
    const rawType = str(h.DOC_TYPE).toUpperCase();
    const auart = ORDER_TYPES[rawType]
      ? rawType
      : Object.entries(ORDER_TYPES).find(([, t]) => t.external === rawType)?.[0];
    if (!rawType)
      return fail([
        msg('E', 'requiredFields', ['ORDER_HEADER_IN-DOC_TYPE'], {
          parameter: 'ORDER_HEADER_IN',
          field: 'DOC_TYPE',
        }),
      ]);
    if (!auart)
      return fail([
        msg('E', 'unknownOrderType', [rawType], { parameter: 'ORDER_HEADER_IN', field: 'DOC_TYPE' }),
      ]);
    const vkorg = str(h.SALES_ORG);
    const vtweg = str(h.DISTR_CHAN);
    const spart = str(h.DIVISION);
    if (!this.store.isSalesArea(vkorg, vtweg, spart)) {
      return fail([
        msg('E', 'unknownSalesArea', [vkorg, vtweg, spart], {
          parameter: 'ORDER_HEADER_IN',
          field: 'SALES_ORG',
        }),
      ]);
    }

    const partners: VbpaRecord[] = [];
    for (const p of rows(a.ORDER_PARTNERS)) {
      const role = str(p.PARTN_ROLE).toUpperCase();
      partners.push({
        VBELN: '',
        POSNR: str(p.ITM_NUMBER) || '000000',
        PARVW: PARTNER_FUNCTIONS[role] ?? role,
        KUNNR: alpha(str(p.PARTN_NUMB)),
      });
    }
    const soldTo = partners.find((p) => p.PARVW === 'AG');
    if (!soldTo || !soldTo.KUNNR) return fail([msg('E', 'noSoldTo', [], { parameter: 'ORDER_PARTNERS' })]);
    for (const p of partners) {
      const c = this.store.customers.get(p.KUNNR);
      if (!c) return fail([msg('E', 'unknownCustomer', [unalpha(p.KUNNR)], { parameter: 'ORDER_PARTNERS' })]);
      if (!c.salesAreas.includes(`${vkorg}/${vtweg}/${spart}`)) {
        return fail([
          msg('E', 'customerNotInSalesArea', [unalpha(p.KUNNR), vkorg, vtweg, spart], {
            parameter: 'ORDER_PARTNERS',
          }),
        ]);
      }
    }
    if (!partners.some((p) => p.PARVW === 'WE')) partners.push({ ...soldTo, PARVW: 'WE' });
    const customer = this.store.customers.get(soldTo.KUNNR)!;
    if (customer.LOEVM === 'X')
      return fail([msg('E', 'customerDeleted', [unalpha(customer.KUNNR)], { parameter: 'ORDER_PARTNERS' })]);
    if (customer.AUFSD) {
      return fail([
        msg('E', 'customerBlocked', [unalpha(customer.KUNNR), customer.AUFSD], {
          parameter: 'ORDER_PARTNERS',
        }),
      ]);
    }

    const itemRows = rows(a.ORDER_ITEMS_IN);
    if (itemRows.length === 0) return fail([msg('E', 'noItems', [], { parameter: 'ORDER_ITEMS_IN' })]);
    const schedules = rows(a.ORDER_SCHEDULES_IN);
    const conditions = rows(a.ORDER_CONDITIONS_IN);
    const waerk = str(h.CURRENCY) || this.store.salesOrg(vkorg)?.WAERS || customer.WAERK;
    const reqDate = str(h.REQ_DATE_H) || sapDate(ctx.now);
    const langIso = LANGUAGES[customer.SPRAS] ?? 'EN';
    const items: VbapRecord[] = [];
    for (const [i, it] of itemRows.entries()) {
      const posnr = (str(it.ITM_NUMBER) || String((i + 1) * 10)).padStart(6, '0');
      const rowNo = i + 1;
      const matnr = (str(it.MATERIAL_LONG) || str(it.MATERIAL)).toUpperCase();
      const material = matnr ? this.store.material(matnr) : undefined;
      if (!material) {
        return fail([
          msg('E', 'unknownMaterial', [matnr, vkorg, vtweg, langIso], {
            parameter: 'ORDER_ITEMS_IN',
            row: rowNo,
            field: 'MATERIAL',
          }),
        ]);
      }
      const werks = str(it.PLANT) || material.plants[0]!;
      if (!material.plants.includes(werks)) {
        return fail([
          msg('E', 'materialNotInPlant', [matnr, werks], {
            parameter: 'ORDER_ITEMS_IN',
            row: rowNo,
            field: 'PLANT',
          }),
        ]);
      }
      const itemSchedules = schedules.filter((s) => str(s.ITM_NUMBER).padStart(6, '0') === posnr);
      const qty =
        itemSchedules.length > 0 ? itemSchedules.reduce((s, x) => s + num(x.REQ_QTY), 0) : num(it.TARGET_QTY);
      if (!(qty > 0)) {
        return fail([
          msg('E', 'invalidQuantity', [posnr], {
            parameter: 'ORDER_ITEMS_IN',
            row: rowNo,
            field: 'TARGET_QTY',
          }),
        ]);
      }
      const pr00 = conditions.find(
        (c) => str(c.ITM_NUMBER).padStart(6, '0') === posnr && str(c.COND_TYPE).toUpperCase() === 'PR00',
      );
      const unitPrice = pr00 ? num(pr00.COND_VALUE) / (num(pr00.COND_P_UNT) || 1) : material.price;
      items.push({
        VBELN: '',
        POSNR: posnr,
        MATNR: material.MATNR,
        ARKTX: str(it.SHORT_TEXT) || material.MAKTX,
        KWMENG: qty,
        VRKME: str(it.SALES_UNIT) || str(it.TARGET_QU) || material.MEINS,
        WERKS: werks,
        NETPR: round2(unitPrice),
        NETWR: round2(unitPrice * qty),
        WAERK: waerk,
        EDATU: str(itemSchedules[0]?.REQ_DATE) || reqDate,
      });
    }

    const processed: SapMessage[] = [
      msg('S', 'processed', ['SALES_HEADER_IN'], { parameter: 'SALES_HEADER_IN', row: 0 }),
      ...items.map((_it, i) => {
        const m = msg('S', 'processed', ['SALES_ITEM_IN'], { parameter: 'SALES_ITEM_IN', row: i + 1 });
        // SAP puts the structure name in V1 and the item counter in V2, not in the text.
        m.vars = ['VBAPKOM', String(i + 1).padStart(6, '0')];
        return m;
      }),
    ];
    processed[0]!.vars = ['VBAKKOM'];
    if (str(a.TESTRUN).toUpperCase() === 'X') {
      return { ...echo, RETURN: { item: processed.map((m) => bapiret2(m, sys)) }, SALESDOCUMENT: '' };
    }

    const vbeln = this.store.orderNumbers.reserve();
    const order: VbakRecord = {
      VBELN: vbeln,
      AUART: auart,
      VKORG: vkorg,
      VTWEG: vtweg,
      SPART: spart,
      KUNNR: soldTo.KUNNR,
      BSTKD: str(h.PURCH_NO_C),
      BSTDK: str(h.PURCH_DATE),
      VDATU: reqDate,
      AUDAT: str(h.DOC_DATE) || sapDate(ctx.now),
      ERDAT: sapDate(ctx.now),
      ERZET: sapTime(ctx.now),
      ERNAM: ctx.user,
      AEDAT: '',
      AENAM: '',
      NETWR: round2(items.reduce((s, it) => s + it.NETWR, 0)),
      WAERK: waerk,
      ZTERM: str(h.PMNTTRMS),
      INCO1: str(h.INCOTERMS1),
      INCO2: str(h.INCOTERMS2),
      AUGRU: str(h.ORD_REASON),
      LIFSK: str(h.DLV_BLOCK),
      FAKSK: str(h.BILL_BLOCK),
      items: items.map((it) => ({ ...it, VBELN: vbeln })),
      partners: partners.map((p) => ({ ...p, VBELN: vbeln })),
    };
    ctx.session.luw.push({ kind: 'order.create', order });
    const saved = msg('S', 'saved', [ORDER_TYPES[auart]!.text, unalpha(vbeln)]);
    return {
      ...echo,
      RETURN: { item: [...processed, saved].map((m) => bapiret2(m, sys)) },
      SALESDOCUMENT: vbeln,
    };
  }

  BAPI_SALESORDER_CHANGE(args: Args, ctx: CallContext): Record<string, unknown> {
    const a = struct(args);
    const sys = this.options.logicalSystem;
    const echo = { ORDER_ITEM_IN: a.ORDER_ITEM_IN ?? {}, ORDER_ITEM_INX: a.ORDER_ITEM_INX ?? {} };
    const fail = (m: SapMessage) => ({
      ...echo,
      RETURN: { item: [m, msg('E', 'notSaved')].map((x) => bapiret2(x, sys)) },
    });
    const vbeln = alpha(str(a.SALESDOCUMENT));
    const order = this.store.orders.get(vbeln);
    if (!order) return fail(msg('E', 'documentNotFound', [unalpha(vbeln)], { parameter: 'SALESDOCUMENT' }));
    const lockedBy = this.orderLockedBy(vbeln, ctx.session);
    if (lockedBy) return fail(msg('E', 'documentLocked', [unalpha(vbeln), lockedBy]));
    const hx = struct(a.ORDER_HEADER_INX);
    const h = struct(a.ORDER_HEADER_IN);
    if (str(hx.UPDATEFLAG).toUpperCase() !== 'U')
      return fail(msg('E', 'noUpdateFlag', [], { parameter: 'ORDER_HEADER_INX' }));

    const header: Partial<Record<ChangeableHeaderField, string>> = {};
    const changedFields: string[] = [];
    for (const [bapiField, vbakField] of Object.entries(HEADER_CHANGE_FIELDS)) {
      if (str(hx[bapiField]).toUpperCase() !== 'X') continue;
      const value = str(h[bapiField]);
      if (order[vbakField] !== value) changedFields.push(bapiField);
      header[vbakField] = value;
    }
    const itemQuantities: Record<string, number> = {};
    const itemX = rows(a.ORDER_ITEM_INX);
    for (const [i, it] of rows(a.ORDER_ITEM_IN).entries()) {
      const posnr = str(it.ITM_NUMBER).padStart(6, '0');
      const x = itemX.find((r) => str(r.ITM_NUMBER).padStart(6, '0') === posnr) ?? {};
      const item = order.items.find((o) => o.POSNR === posnr);
      if (!item)
        return fail(
          msg('E', 'documentNotFound', [`${unalpha(vbeln)} ${posnr}`], {
            parameter: 'ORDER_ITEM_IN',
            row: i + 1,
          }),
        );
      if (str(x.TARGET_QTY).toUpperCase() === 'X') {
        const qty = num(it.TARGET_QTY);
        if (!(qty > 0))
          return fail(msg('E', 'invalidQuantity', [posnr], { parameter: 'ORDER_ITEM_IN', row: i + 1 }));
        if (qty !== item.KWMENG) changedFields.push(`ITEM_${posnr}_TARGET_QTY`);
        itemQuantities[posnr] = qty;
      }
    }
    const messages = [msg('S', 'processed', ['ORDER_HEADER_IN'], { parameter: 'ORDER_HEADER_IN', row: 0 })];
    messages[0]!.vars = ['VBAKKOM'];
    if (str(a.SIMULATION).toUpperCase() !== 'X') {
      ctx.session.luw.push({ kind: 'order.change', vbeln, header, itemQuantities, changedFields });
      messages.push(msg('S', 'saved', [ORDER_TYPES[order.AUART]?.text ?? order.AUART, unalpha(vbeln)]));
    }
    return { ...echo, RETURN: { item: messages.map((m) => bapiret2(m, sys)) } };
  }

  BAPI_SALESORDER_GETLIST(args: Args): Record<string, unknown> {
    const a = struct(args);
    const kunnr = alpha(str(a.CUSTOMER_NUMBER));
    const vkorg = str(a.SALES_ORGANIZATION);
    if (!kunnr)
      return { RETURN: bapireturn(msg('E', 'requiredFields', ['CUSTOMER_NUMBER'])), SALES_ORDERS: {} };
    if (!vkorg)
      return { RETURN: bapireturn(msg('E', 'requiredFields', ['SALES_ORGANIZATION'])), SALES_ORDERS: {} };
    const from = str(a.DOCUMENT_DATE);
    const to = str(a.DOCUMENT_DATE_TO);
    const po = str(a.PURCHASE_ORDER_NUMBER) || str(a.PURCHASE_ORDER);
    const material = str(a.MATERIAL).toUpperCase();
    const customer = this.store.customers.get(kunnr);
    const out: Record<string, unknown>[] = [];
    const orders = [...this.store.orders.values()].sort((x, y) => x.VBELN.localeCompare(y.VBELN));
    for (const o of orders) {
      if (o.KUNNR !== kunnr || o.VKORG !== vkorg) continue;
      if (from && o.AUDAT < from) continue;
      if (to && o.AUDAT > to) continue;
      if (po && o.BSTKD !== po) continue;
      for (const it of o.items) {
        if (material && it.MATNR !== material) continue;
        out.push({
          SD_DOC: o.VBELN,
          ITM_NUMBER: it.POSNR,
          MATERIAL: it.MATNR,
          SHORT_TEXT: it.ARKTX,
          DOC_TYPE: o.AUART,
          DOC_DATE: o.AUDAT,
          REQ_QTY: it.KWMENG.toFixed(3),
          REQ_DATE: it.EDATU,
          PURCH_NO: o.BSTKD.slice(0, 20),
          SOLD_TO: o.KUNNR,
          NAME: customer?.NAME1 ?? '',
          BASE_UOM: it.VRKME,
          NET_PRICE: dec(it.NETPR),
          COND_P_UNT: '1',
          NET_VAL_HD: dec(o.NETWR),
          NET_VALUE: dec(it.NETWR),
          DIVISION: o.SPART,
          DOC_STATUS: 'Open',
          SALES_ORG: o.VKORG,
          SALES_UNIT: it.VRKME,
          DISTR_CHAN: o.VTWEG,
          CURRENCY: o.WAERK,
          PLANT: it.WERKS,
          CREATION_DATE: o.ERDAT,
          CREATION_TIME: o.ERZET,
          PURCH_NO_C: o.BSTKD,
          MATERIAL_LONG: it.MATNR,
        });
      }
    }
    return { RETURN: bapireturn(), SALES_ORDERS: { item: out } };
  }

  BAPISDORDER_GETDETAILEDLIST(args: Args): Record<string, unknown> {
    const a = struct(args);
    const view = struct(a.I_BAPI_VIEW);
    const flag = (k: string) => str(view[k]).toUpperCase() === 'X';
    const keys = rows(a.SALES_DOCUMENTS);
    const headers: unknown[] = [];
    const items: unknown[] = [];
    const partners: unknown[] = [];
    const schedules: unknown[] = [];
    const statuses: unknown[] = [];
    for (const key of keys) {
      const o = this.store.orders.get(alpha(str(key.VBELN)));
      if (!o) continue;
      if (flag('HEADER')) {
        headers.push({
          DOC_NUMBER: o.VBELN,
          DOC_TYPE: o.AUART,
          DOC_CAT: 'C',
          SALES_ORG: o.VKORG,
          DISTR_CHAN: o.VTWEG,
          DIVISION: o.SPART,
          REQ_DATE_H: o.VDATU,
          PURCH_NO: o.BSTKD.slice(0, 20),
          PURCH_NO_C: o.BSTKD,
          PURCH_DATE: o.BSTDK,
          SOLD_TO: o.KUNNR,
          NET_VAL_HD: dec(o.NETWR),
          CURRENCY: o.WAERK,
          CREATED_BY: o.ERNAM,
          REC_DATE: o.ERDAT,
          REC_TIME: o.ERZET,
          DOC_DATE: o.AUDAT,
          UPDATEDATE: o.AEDAT,
          PMNTTRMS: o.ZTERM,
          INCOTERMS1: o.INCO1,
          INCOTERMS2: o.INCO2,
          ORD_REASON: o.AUGRU,
          DLV_BLOCK: o.LIFSK,
          BILL_BLOCK: o.FAKSK,
        });
      }
      if (flag('ITEM')) {
        for (const it of o.items) {
          items.push({
            DOC_NUMBER: o.VBELN,
            ITM_NUMBER: it.POSNR,
            MATERIAL: it.MATNR,
            MATERIAL_LONG: it.MATNR,
            SHORT_TEXT: it.ARKTX,
            ITEM_CATEG: 'TAN',
            PLANT: it.WERKS,
            REQ_QTY: it.KWMENG.toFixed(3),
            SALES_UNIT: it.VRKME,
            NET_VALUE: dec(it.NETWR),
            CURRENCY: it.WAERK,
            NET_PRICE: dec(it.NETPR),
            COND_P_UNT: '1',
            CREATED_BY: o.ERNAM,
            REC_DATE: o.ERDAT,
            PURCH_NO_C: o.BSTKD,
          });
        }
      }
      if (flag('PARTNER')) {
        for (const p of o.partners) {
          const c = this.store.customers.get(p.KUNNR);
          partners.push({
            SD_DOC: o.VBELN,
            ITM_NUMBER: p.POSNR,
            PARTN_ROLE: p.PARVW,
            CUSTOMER: p.KUNNR,
            ADDRESS: c?.ADRNR ?? '',
            COUNTRY: c?.LAND1 ?? '',
            COUNTRYISO: c?.LAND1 ?? '',
          });
        }
      }
      if (flag('SDSCHEDULE')) {
        for (const it of o.items) {
          schedules.push({
            DOC_NUMBER: o.VBELN,
            ITM_NUMBER: it.POSNR,
            SCHED_LINE: '0001',
            REQ_DATE: it.EDATU,
            REQ_QTY: it.KWMENG.toFixed(3),
            CONFIR_QTY: it.KWMENG.toFixed(3),
            SALES_UNIT: it.VRKME,
          });
        }
      }
      if (flag('STATUS_H')) {
        statuses.push({
          SD_DOC: o.VBELN,
          OVRPROCSTA: 'A',
          DLV_STAT_H: 'A',
          BILL_STATH: '',
          DOC_CAT: 'C',
          DOC_TYPE: o.AUART,
          CREAT_DATE: o.ERDAT,
          CREATED_BY: o.ERNAM,
          UPDATEDATE: o.AEDAT,
        });
      }
    }
    return {
      ORDER_HEADERS_OUT: { item: headers },
      ORDER_ITEMS_OUT: { item: items },
      ORDER_PARTNERS_OUT: { item: partners },
      ORDER_SCHEDULES_OUT: { item: schedules },
      ORDER_STATUSHEADERS_OUT: { item: statuses },
      SALES_DOCUMENTS: { item: keys },
    };
  }

  // ---------------------------------------------------------------- transaction control

  BAPI_TRANSACTION_COMMIT(_args: Args, ctx: CallContext): Record<string, unknown> {
    this.commit(ctx.session, ctx.now);
    return { RETURN: bapiret2(undefined, this.options.logicalSystem) };
  }

  BAPI_TRANSACTION_ROLLBACK(_args: Args, ctx: CallContext): Record<string, unknown> {
    this.discard(ctx.session);
    return { RETURN: bapiret2(undefined, this.options.logicalSystem) };
  }
}

/** Update function modules: their work waits in the LUW. */
export const UPDATE_FUNCTIONS = new Set([
  'BAPI_CUSTOMER_CREATEFROMDATA1',
  'Z_CUSTOMER_SET_BLOCKS',
  'BAPI_SALESORDER_CREATEFROMDAT2',
  'BAPI_SALESORDER_CHANGE',
]);

export const FUNCTION_NAMES = [
  'BAPI_CUSTOMER_CREATEFROMDATA1',
  'BAPI_CUSTOMER_GETDETAIL2',
  'BAPI_CUSTOMER_FIND',
  'Z_CUSTOMER_SET_BLOCKS',
  'BAPI_SALESORDER_CREATEFROMDAT2',
  'BAPI_SALESORDER_CHANGE',
  'BAPI_SALESORDER_GETLIST',
  'BAPISDORDER_GETDETAILEDLIST',
  'BAPI_TRANSACTION_COMMIT',
  'BAPI_TRANSACTION_ROLLBACK',
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Did the call report an error in RETURN (structure or table)? */
export function returnedError(result: Record<string, unknown>): boolean {
  const ret = result.RETURN as Record<string, unknown> | undefined;
  if (!ret) return false;
  const list = 'item' in ret ? (ret.item as Record<string, unknown>[]) : [ret];
  return list.some((r) => r.TYPE === 'E' || r.TYPE === 'A');
}

/** BAPI_CUSTOMER_FIND with PL_HOLD = X: `*` any string, `+` one character, case-insensitive. */
function likePattern(pattern: string): (value: string) => boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '+' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return (value) => re.test(value);
}
