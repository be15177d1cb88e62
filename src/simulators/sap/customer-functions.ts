/**
 * The customer function modules (BAPI_CUSTOMER_*, Z_CUSTOMER_SET_BLOCKS), methods of `SapEngine`
 * written as functions of their own: update BAPIs record their work in the caller's LUW.
 */
import { bapiret1, bapiret2, msg } from './messages';
import type { SapMessage } from './messages';
import type { CallContext, SapEngine } from './functions';
import { alpha, COUNTRIES, LANGUAGES, unalpha } from './store';
import type { Kna1Record } from './store';
import {
  str,
  num,
  struct,
  rows,
  sapDate,
  likePattern,
  PERSONAL_LENGTHS,
  COMPANY_LENGTHS,
  FINDABLE_FIELDS,
} from './values';
import type { Args } from './values';

export function BAPI_CUSTOMER_CREATEFROMDATA1(
  this: SapEngine,
  args: Args,
  ctx: CallContext,
): Record<string, unknown> {
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
  if (!(COUNTRIES as readonly string[]).includes(country)) return fail(msg('E', 'unknownCountry', [country]));
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

export function BAPI_CUSTOMER_GETDETAIL2(this: SapEngine, args: Args): Record<string, unknown> {
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

export function BAPI_CUSTOMER_FIND(this: SapEngine, args: Args): Record<string, unknown> {
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

export function Z_CUSTOMER_SET_BLOCKS(
  this: SapEngine,
  args: Args,
  ctx: CallContext,
): Record<string, unknown> {
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
