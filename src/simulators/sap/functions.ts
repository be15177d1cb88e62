/**
 * The function modules behind the SOAP operations, written against SAP's semantics: update BAPIs only
 * record their work in the caller's LUW, BAPI_TRANSACTION_COMMIT applies it, business errors come back
 * as RETURN rows (never as exceptions). Arguments arrive as node-soap parsed them from the WSDL.
 */
import { randomBytes } from 'node:crypto';
import * as customerFunctions from './customer-functions';
import { bapiret2 } from './messages';
import * as orderFunctions from './order-functions';
import type { Kna1Record, SapStore, VbakRecord } from './store';
import { round2, sapDate } from './values';
import type { Args, ChangeableHeaderField } from './values';

export { HEADER_CHANGE_FIELDS, rows, str } from './values';

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

export interface EngineOptions {
  logicalSystem: string;
  onOrderEvent(event: CommittedOrderEvent): void;
}

export class SapEngine {
  readonly sessions = new Map<string, Session>();

  constructor(
    readonly store: SapStore,
    readonly options: EngineOptions,
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
  readonly BAPI_CUSTOMER_CREATEFROMDATA1 = customerFunctions.BAPI_CUSTOMER_CREATEFROMDATA1;
  readonly BAPI_CUSTOMER_GETDETAIL2 = customerFunctions.BAPI_CUSTOMER_GETDETAIL2;
  readonly BAPI_CUSTOMER_FIND = customerFunctions.BAPI_CUSTOMER_FIND;
  readonly Z_CUSTOMER_SET_BLOCKS = customerFunctions.Z_CUSTOMER_SET_BLOCKS;

  // ---------------------------------------------------------------- sales orders
  readonly BAPI_SALESORDER_CREATEFROMDAT2 = orderFunctions.BAPI_SALESORDER_CREATEFROMDAT2;
  readonly BAPI_SALESORDER_CHANGE = orderFunctions.BAPI_SALESORDER_CHANGE;
  readonly BAPI_SALESORDER_GETLIST = orderFunctions.BAPI_SALESORDER_GETLIST;
  readonly BAPISDORDER_GETDETAILEDLIST = orderFunctions.BAPISDORDER_GETDETAILEDLIST;

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
