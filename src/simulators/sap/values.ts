/**
 * Values as SAP's function modules see them: node-soap's parsed arguments, CHAR trimming, dates,
 * decimals, and the field lengths and tables the BAPIs check against.
 */
export type Args = Record<string, unknown> | null | undefined;

/** node-soap gives strings, numbers, null (empty restricted types) or `{ $value }`; SAP trims CHAR fields. */
export function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && '$value' in v) return str(v.$value);
  return '';
}

export function num(v: unknown): number {
  const s = str(v);
  if (s === '') return 0;
  const n = Number(s);
  return Number.isFinite(n) ? n : NaN;
}

export function struct(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** A table parameter: `<T><item>…</item>…</T>`; one row may arrive as an object instead of an array. */
export function rows(v: unknown): Record<string, unknown>[] {
  const item = struct(v).item;
  if (item === undefined || item === null) return [];
  return (Array.isArray(item) ? item : [item]).map(struct);
}

export function sapDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function sapTime(d: Date): string {
  return d.toISOString().slice(11, 19);
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** SAP decimals travel as plain numbers with a fixed number of decimals. */
export function dec(n: number, decimals = 4): string {
  return n.toFixed(decimals);
}

export const PERSONAL_LENGTHS: Record<string, number> = {
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

export const COMPANY_LENGTHS: Record<string, number> = {
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
export const FINDABLE_FIELDS = [
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

export type ChangeableHeaderField =
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

/** BAPI_CUSTOMER_FIND with PL_HOLD = X: `*` any string, `+` one character, case-insensitive. */
export function likePattern(pattern: string): (value: string) => boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '+' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return (value) => re.test(value);
}
