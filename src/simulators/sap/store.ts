/**
 * The simulated SAP client's database: master data (sales areas, countries, languages, materials), the
 * customer master (KNA1 + KNVV sales areas + ADR6 e-mail) and sales documents (VBAK/VBAP/VBPA), plus the
 * number ranges that hand out customer (KUNNR), sales document (VBELN) and address (ADRNR) numbers.
 * Only committed data lives here; uncommitted work waits in a session's LUW (see sessions.ts).
 */

export interface Kna1Record {
  KUNNR: string;
  NAME1: string;
  NAME2: string;
  SORTL: string;
  STRAS: string;
  ORT01: string;
  PSTLZ: string;
  REGIO: string;
  LAND1: string;
  TELF1: string;
  SPRAS: string;
  KTOKD: string;
  LOEVM: string;
  AUFSD: string;
  ERDAT: string;
  ERNAM: string;
  ADRNR: string;
  /** Sales areas (KNVV) the customer is extended to, as `VKORG/VTWEG/SPART`. */
  salesAreas: string[];
  /** KNVV-WAERK of the customer's sales areas (one currency for all, enough for the simulator). */
  WAERK: string;
}

export interface Adr6Record {
  ADDRNUMBER: string;
  PERSNUMBER: string;
  DATE_FROM: string;
  CONSNUMBER: string;
  FLGDEFAULT: string;
  SMTP_ADDR: string;
  SMTP_SRCH: string;
}

export interface VbapRecord {
  VBELN: string;
  POSNR: string;
  MATNR: string;
  ARKTX: string;
  KWMENG: number;
  VRKME: string;
  WERKS: string;
  NETPR: number;
  NETWR: number;
  WAERK: string;
  /** Requested delivery date of the item's schedule line (VBEP-EDATU). */
  EDATU: string;
}

export interface VbpaRecord {
  VBELN: string;
  POSNR: string;
  PARVW: string;
  KUNNR: string;
}

export interface VbakRecord {
  VBELN: string;
  AUART: string;
  VKORG: string;
  VTWEG: string;
  SPART: string;
  KUNNR: string;
  BSTKD: string;
  BSTDK: string;
  VDATU: string;
  AUDAT: string;
  ERDAT: string;
  ERZET: string;
  ERNAM: string;
  AEDAT: string;
  AENAM: string;
  NETWR: number;
  WAERK: string;
  ZTERM: string;
  INCO1: string;
  INCO2: string;
  AUGRU: string;
  LIFSK: string;
  FAKSK: string;
  items: VbapRecord[];
  partners: VbpaRecord[];
}

export interface Material {
  MATNR: string;
  MAKTX: string;
  MEINS: string;
  /** Plants the material is maintained in (MARC); the first is the default delivering plant. */
  plants: string[];
  /** PR00 price per 1 base unit, in the sales organisation's currency. */
  price: number;
}

export interface SalesOrg {
  VKORG: string;
  WAERS: string;
  /** Valid distribution channel / division pairs, `VTWEG/SPART`. */
  areas: string[];
}

/** ISO 3166 alpha-2 codes (SAP's LAND1 uses the same keys for these). */
export const COUNTRIES = [
  'AT',
  'AU',
  'BE',
  'BR',
  'CA',
  'CH',
  'CN',
  'CZ',
  'DE',
  'DK',
  'ES',
  'FI',
  'FR',
  'GB',
  'IE',
  'IN',
  'IT',
  'JP',
  'MX',
  'NL',
  'NO',
  'PL',
  'PT',
  'SE',
  'US',
] as const;

/** SAP one-character language keys (SPRAS) and their ISO 639-1 codes (LAISO). */
export const LANGUAGES: Record<string, string> = {
  E: 'EN',
  D: 'DE',
  F: 'FR',
  S: 'ES',
  I: 'IT',
  N: 'NL',
  P: 'PT',
  L: 'PL',
  V: 'SV',
  K: 'DA',
  O: 'NO',
  J: 'JA',
  '1': 'ZH',
};

/** Order types: internal key (TVAK-AUART) -> the English external key and its text. */
export const ORDER_TYPES: Record<string, { external: string; text: string }> = {
  TA: { external: 'OR', text: 'Standard Order' },
  SO: { external: 'RO', text: 'Rush Order' },
};

/** Partner functions: external (English) -> internal key. */
export const PARTNER_FUNCTIONS: Record<string, string> = { SP: 'AG', SH: 'WE', BP: 'RE', PY: 'RG' };

export const REFERENCE_CUSTOMER = '0000100000';

function seedSalesOrgs(): SalesOrg[] {
  return [
    { VKORG: '1000', WAERS: 'EUR', areas: ['10/00', '20/00'] },
    { VKORG: '2000', WAERS: 'USD', areas: ['10/00'] },
  ];
}

function seedMaterials(): Material[] {
  return [
    { MATNR: 'MAT-1000', MAKTX: 'Industrial pump P-100', MEINS: 'ST', plants: ['1000', '2000'], price: 1250 },
    { MATNR: 'MAT-1001', MAKTX: 'Ball valve V-20', MEINS: 'ST', plants: ['1000'], price: 89.5 },
    { MATNR: 'MAT-1002', MAKTX: 'Seal kit S-5', MEINS: 'ST', plants: ['1000'], price: 12.4 },
    { MATNR: 'MAT-2000', MAKTX: 'Hydraulic oil HLP 46', MEINS: 'L', plants: ['1000', '2000'], price: 4.75 },
  ];
}

function seedCustomers(): Kna1Record[] {
  return [
    {
      KUNNR: REFERENCE_CUSTOMER,
      NAME1: 'Reference customer domestic',
      NAME2: '',
      SORTL: 'REFERENCE',
      STRAS: 'Dietmar-Hopp-Allee 16',
      ORT01: 'Walldorf',
      PSTLZ: '69190',
      REGIO: 'BW',
      LAND1: 'DE',
      TELF1: '',
      SPRAS: 'E',
      KTOKD: '0001',
      LOEVM: '',
      AUFSD: '',
      ERDAT: '2015-01-05',
      ERNAM: 'MIGRATION',
      ADRNR: '0000021999',
      salesAreas: ['1000/10/00', '1000/20/00', '2000/10/00'],
      WAERK: 'EUR',
    },
  ];
}

export interface NumberRangeStarts {
  customer: number;
  order: number;
  address: number;
}

export const DEFAULT_NUMBER_RANGES: NumberRangeStarts = { customer: 100001, order: 4970, address: 22000 };

export function pad10(n: number | string): string {
  return String(n).padStart(10, '0');
}

/** ALPHA conversion: purely numeric keys are zero-padded to 10, anything else stays as typed. */
export function alpha(value: string): string {
  const v = value.trim();
  return /^\d{1,10}$/.test(v) ? pad10(v) : v;
}

/** The output form of an ALPHA key: leading zeros removed, as SAP shows numbers in messages. */
export function unalpha(value: string): string {
  return /^\d+$/.test(value) ? value.replace(/^0+(?=\d)/, '') : value;
}

/**
 * A number range that hands out the next free number and takes a reservation back when the LUW that held
 * it is discarded, so numbers only become permanent with a commit (like an unbuffered SAP number range,
 * whose NRIV update is part of the same database LUW).
 */
export class NumberRange {
  private committed: number;
  private readonly reserved = new Set<number>();

  constructor(private readonly start: number) {
    this.committed = start - 1;
  }

  reserve(): string {
    let next = this.committed + 1;
    while (this.reserved.has(next)) next += 1;
    this.reserved.add(next);
    return pad10(next);
  }

  release(number: string): void {
    this.reserved.delete(Number(number));
  }

  confirm(number: string): void {
    const n = Number(number);
    this.reserved.delete(n);
    if (n > this.committed) this.committed = n;
  }

  reset(): void {
    this.committed = this.start - 1;
    this.reserved.clear();
  }
}

/**
 * KNA1: customers by number. While a commit is being written (COMMIT WORK, or a change committed at
 * once), the table keeps the before-images of the customers that commit writes: each one's record as it
 * was before its first write, or undefined for a new customer (watch() starts that, unwatch() ends it).
 * The commit computes its change pointers from those few records, instead of copying the whole
 * customer master before every commit to compare against.
 */
export class CustomerTable extends Map<string, Kna1Record> {
  // Optional: Map's constructor calls set() before the subclass's fields exist.
  private watchers?: Set<Map<string, Kna1Record | undefined>>;

  /** Starts recording the value each written customer had before its first write (undefined: new). */
  watch(): Map<string, Kna1Record | undefined> {
    const before = new Map<string, Kna1Record | undefined>();
    (this.watchers ??= new Set()).add(before);
    return before;
  }

  unwatch(before: Map<string, Kna1Record | undefined>): void {
    this.watchers?.delete(before);
  }

  override set(kunnr: string, customer: Kna1Record): this {
    if (this.watchers) for (const w of this.watchers) if (!w.has(kunnr)) w.set(kunnr, this.get(kunnr));
    return super.set(kunnr, customer);
  }

  override delete(kunnr: string): boolean {
    if (this.watchers) for (const w of this.watchers) if (!w.has(kunnr)) w.set(kunnr, this.get(kunnr));
    return super.delete(kunnr);
  }
}

export class SapStore {
  readonly salesOrgs: SalesOrg[] = seedSalesOrgs();
  readonly materials: Material[] = seedMaterials();
  customers = new CustomerTable();
  emails: Adr6Record[] = [];
  orders = new Map<string, VbakRecord>();
  readonly customerNumbers: NumberRange;
  readonly orderNumbers: NumberRange;
  readonly addressNumbers: NumberRange;

  constructor(ranges: NumberRangeStarts = DEFAULT_NUMBER_RANGES) {
    this.customerNumbers = new NumberRange(ranges.customer);
    this.orderNumbers = new NumberRange(ranges.order);
    this.addressNumbers = new NumberRange(ranges.address);
    this.reset();
  }

  reset(): void {
    this.customers = new CustomerTable(seedCustomers().map((c) => [c.KUNNR, c]));
    this.emails = [];
    this.orders = new Map();
    this.customerNumbers.reset();
    this.orderNumbers.reset();
    this.addressNumbers.reset();
  }

  salesOrg(vkorg: string): SalesOrg | undefined {
    return this.salesOrgs.find((o) => o.VKORG === vkorg);
  }

  isSalesArea(vkorg: string, vtweg: string, spart: string): boolean {
    return this.salesOrg(vkorg)?.areas.includes(`${vtweg}/${spart}`) ?? false;
  }

  material(matnr: string): Material | undefined {
    return this.materials.find((m) => m.MATNR === matnr.trim().toUpperCase());
  }

  emailOf(adrnr: string): string {
    return this.emails.find((e) => e.ADDRNUMBER === adrnr && e.FLGDEFAULT === 'X')?.SMTP_ADDR ?? '';
  }
}
