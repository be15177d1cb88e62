/**
 * The sales-order function modules (BAPI_SALESORDER_*, BAPISDORDER_GETDETAILEDLIST), methods of
 * `SapEngine` written as functions of their own: update BAPIs record their work in the caller's LUW.
 */
import { bapiret2, bapireturn, msg } from './messages';
import type { SapMessage } from './messages';
import type { CallContext, SapEngine } from './functions';
import { alpha, LANGUAGES, ORDER_TYPES, PARTNER_FUNCTIONS, unalpha } from './store';
import type { VbakRecord, VbapRecord, VbpaRecord } from './store';
import { str, num, struct, rows, sapDate, sapTime, round2, dec, HEADER_CHANGE_FIELDS } from './values';
import type { Args, ChangeableHeaderField } from './values';

export function BAPI_SALESORDER_CREATEFROMDAT2(
  this: SapEngine,
  args: Args,
  ctx: CallContext,
): Record<string, unknown> {
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

export function BAPI_SALESORDER_CHANGE(
  this: SapEngine,
  args: Args,
  ctx: CallContext,
): Record<string, unknown> {
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

export function BAPI_SALESORDER_GETLIST(this: SapEngine, args: Args): Record<string, unknown> {
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

export function BAPISDORDER_GETDETAILEDLIST(this: SapEngine, args: Args): Record<string, unknown> {
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
