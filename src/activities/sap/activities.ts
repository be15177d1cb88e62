import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/error-types';
import { toSapCustomerCreate } from '../../domain/customer';
import type { SapCustomerMatch, SapCustomerSource, SapSalesArea } from '../../domain/customer';
import { calendarDate } from '../../domain/order-sync';
import type { SapClient, SapSession } from './client';
import { assertNoBapiError, classifySapError } from './errors';

export interface SapDeps {
  client: SapClient;
  /** Sales area and reference customer new customers are copied from (PI_COPYREFERENCE). */
  salesArea: SapSalesArea;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const rows = (table: unknown): Record<string, unknown>[] => {
  const item = table && typeof table === 'object' ? (table as { item?: unknown }).item : undefined;
  return Array.isArray(item)
    ? (item as Record<string, unknown>[])
    : item
      ? [item as Record<string, unknown>]
      : [];
};

async function call(session: SapSession, operation: string, args: Record<string, unknown>) {
  try {
    return await session.call(operation, args);
  } catch (err) {
    throw classifySapError(err, operation);
  }
}

/** Makes the session's update BAPIs permanent (WAIT = X: synchronous update, errors reported). */
async function commit(session: SapSession): Promise<void> {
  const res = await call(session, 'BAPI_TRANSACTION_COMMIT', { WAIT: 'X' });
  assertNoBapiError('BAPI_TRANSACTION_COMMIT', res.RETURN);
}

/** Runs `fn`, turning whatever the SOAP layer throws into a classified failure. */
async function classified<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifySapError(err, operation);
  }
}

/**
 * Runs an update (BAPI + commit). When its outcome is unknown — the client gave up waiting — the retry
 * is held back for one client timeout: a commit still running in SAP then has landed, and the retry's
 * check-before-create finds it instead of creating the record twice.
 */
async function ambiguityAware<T>(client: SapClient, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === ErrorType.Timeout && !err.nonRetryable) {
      throw ApplicationFailure.create({
        type: err.type,
        message: `${err.message}; its outcome is unknown, so the retry waits for SAP to finish`,
        details: err.details ? [...err.details] : undefined,
        nextRetryDelay: client.timeoutMs,
      });
    }
    throw err;
  }
}

/**
 * SAP activities. Update BAPIs are not idempotent and take effect only with BAPI_TRANSACTION_COMMIT in
 * the same session, so each write runs BAPI + commit in one session, and a retried create first
 * checks whether an earlier attempt already committed the customer.
 */
export function createSapActivities({ client, salesArea }: SapDeps) {
  /** Customers (not flagged for deletion) whose KNA1 fields equal `match`, via BAPI_CUSTOMER_FIND. */
  async function findCustomer(input: {
    match: SapCustomerMatch;
  }): Promise<{ customerNumber?: string; candidates: string[] }> {
    return classified('BAPI_CUSTOMER_FIND', async () => {
      const res = await client.call('BAPI_CUSTOMER_FIND', {
        MAX_CNT: 0,
        PL_HOLD: '',
        SELOPT_TAB: {
          item: Object.entries(input.match as unknown as Record<string, string>).map(([field, value]) => ({
            TABNAME: 'KNA1',
            FIELDNAME: field,
            FIELDVALUE: value,
          })),
        },
      });
      assertNoBapiError('BAPI_CUSTOMER_FIND', res.RETURN);
      const candidates = rows(res.RESULT_TAB)
        .filter((r) => str(r.DEL_FLAG_G) !== 'X')
        .map((r) => str(r.CUSTOMER))
        .filter(Boolean);
      return { customerNumber: candidates[0], candidates };
    });
  }

  return {
    findCustomer,

    async createCustomer(input: {
      customer: SapCustomerSource;
      match: SapCustomerMatch;
    }): Promise<{ customerNumber: string; recoveredFromEarlierAttempt: boolean }> {
      if (activityInfo().attempt > 1) {
        // The previous attempt may have committed before its answer was lost.
        const earlier = await findCustomer({ match: input.match });
        if (earlier.customerNumber)
          return { customerNumber: earlier.customerNumber, recoveredFromEarlierAttempt: true };
      }
      return ambiguityAware(client, () =>
        classified('BAPI_CUSTOMER_CREATEFROMDATA1', () =>
          client.session(async (s) => {
            const res = await call(s, 'BAPI_CUSTOMER_CREATEFROMDATA1', {
              ...toSapCustomerCreate(input.customer, salesArea),
            });
            assertNoBapiError('BAPI_CUSTOMER_CREATEFROMDATA1', res.RETURN);
            const customerNumber = str(res.CUSTOMERNO);
            if (!customerNumber)
              throw classifySapError(
                new Error('no CUSTOMERNO in the answer'),
                'BAPI_CUSTOMER_CREATEFROMDATA1',
              );
            await commit(s);
            return { customerNumber, recoveredFromEarlierAttempt: false };
          }),
        ),
      );
    },

    /**
     * Compensation: flags the customer this run created for deletion and blocks orders (SAP master data
     * is never physically deleted by an interface). With no number (the create's answer was lost), the
     * customer is found by its fields; nothing found means nothing was committed.
     */
    async blockCustomer(input: {
      customerNumber?: string;
      match: SapCustomerMatch;
    }): Promise<{ blocked: boolean; customerNumber?: string }> {
      let customerNumber = input.customerNumber;
      if (!customerNumber) {
        const found = await findCustomer({ match: input.match });
        if (found.candidates.length > 1) {
          // Several live customers look like ours: blocking one at random could hit someone else's.
          throw ApplicationFailure.create({
            type: ErrorType.SapCustomerConflict,
            nonRetryable: true,
            message: `several SAP customers match ${input.match.NAME1} (${found.candidates.join(', ')}); an operator must decide which one this run created`,
            details: [{ candidates: found.candidates }],
          });
        }
        customerNumber = found.customerNumber;
      }
      if (!customerNumber) return { blocked: false };
      await classified('Z_CUSTOMER_SET_BLOCKS', () =>
        client.session(async (s) => {
          const res = await call(s, 'Z_CUSTOMER_SET_BLOCKS', {
            CUSTOMERNO: customerNumber,
            DELETION_FLAG: 'X',
            ORDER_BLOCK: '01',
          });
          assertNoBapiError('Z_CUSTOMER_SET_BLOCKS', res.RETURN);
          await commit(s);
        }),
      );
      return { blocked: true, customerNumber };
    },

    async getCustomer(input: { customerNumber: string }): Promise<Record<string, unknown>> {
      return classified('BAPI_CUSTOMER_GETDETAIL2', async () => {
        const res = await client.call('BAPI_CUSTOMER_GETDETAIL2', { CUSTOMERNO: input.customerNumber });
        assertNoBapiError('BAPI_CUSTOMER_GETDETAIL2', res.RETURN);
        return { address: res.CUSTOMERADDRESS, general: res.CUSTOMERGENERALDETAIL };
      });
    },
  };
}

export type SapActivities = ReturnType<typeof createSapActivities>;

export interface SalesOrderSummary {
  salesDocument: string;
  customerNumber: string;
  purchaseOrder: string;
  material: string;
  quantity: number;
  netValue: number;
  currency: string;
  requestedDate: string;
}

/**
 * Sales-order activities for the order sync. Like the customer create, a create first checks (on a
 * retry) whether an earlier attempt committed, by the purchase-order number the coordinator sets: the
 * Salesforce Opportunity id.
 */
export function createSapOrderActivities({ client, salesArea }: SapDeps) {
  const num = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN);

  async function findSalesOrder(input: {
    customerNumber: string;
    purchaseOrder: string;
  }): Promise<SalesOrderSummary | undefined> {
    return classified('BAPI_SALESORDER_GETLIST', async () => {
      const res = await client.call('BAPI_SALESORDER_GETLIST', {
        CUSTOMER_NUMBER: input.customerNumber,
        SALES_ORGANIZATION: salesArea.salesOrg,
        PURCHASE_ORDER_NUMBER: input.purchaseOrder,
      });
      assertNoBapiError('BAPI_SALESORDER_GETLIST', res.RETURN);
      const first = rows(res.SALES_ORDERS)[0];
      if (!first) return undefined;
      return {
        salesDocument: str(first.SD_DOC),
        customerNumber: str(first.SOLD_TO),
        purchaseOrder: input.purchaseOrder,
        material: str(first.MATERIAL),
        quantity: num(first.REQ_QTY),
        netValue: num(first.NET_VAL_HD),
        currency: str(first.CURRENCY),
        requestedDate: calendarDate(first.REQ_DATE) ?? '',
      };
    });
  }

  return {
    findSalesOrder,

    async createSalesOrder(input: {
      customerNumber: string;
      purchaseOrder: string;
      material: string;
      quantity: number;
      requestedDate?: string;
    }): Promise<SalesOrderSummary & { recoveredFromEarlierAttempt: boolean }> {
      if (activityInfo().attempt > 1) {
        const earlier = await findSalesOrder(input);
        if (earlier) return { ...earlier, recoveredFromEarlierAttempt: true };
      }
      const salesDocument = await ambiguityAware(client, () =>
        classified('BAPI_SALESORDER_CREATEFROMDAT2', () =>
          client.session(async (s) => {
            const res = await call(s, 'BAPI_SALESORDER_CREATEFROMDAT2', {
              ORDER_HEADER_IN: {
                DOC_TYPE: 'TA',
                SALES_ORG: salesArea.salesOrg,
                DISTR_CHAN: salesArea.distributionChannel,
                DIVISION: salesArea.division,
                PURCH_NO_C: input.purchaseOrder,
                ...(input.requestedDate ? { REQ_DATE_H: input.requestedDate } : {}),
              },
              ORDER_ITEMS_IN: {
                item: [{ ITM_NUMBER: '000010', MATERIAL: input.material, TARGET_QTY: input.quantity }],
              },
              ORDER_PARTNERS: { item: [{ PARTN_ROLE: 'AG', PARTN_NUMB: input.customerNumber }] },
            });
            assertNoBapiError('BAPI_SALESORDER_CREATEFROMDAT2', res.RETURN);
            const document = str(res.SALESDOCUMENT);
            if (!document) throw new Error('no SALESDOCUMENT in the answer');
            await commit(s);
            return document;
          }),
        ),
      );
      const created = await findSalesOrder(input);
      if (!created || created.salesDocument !== salesDocument) {
        throw classifySapError(
          new Error(`sales order ${salesDocument} is not readable after its commit`),
          'BAPI_SALESORDER_GETLIST',
        );
      }
      return { ...created, recoveredFromEarlierAttempt: false };
    },

    /** Changes header fields and the first item's quantity; only what is given is flagged in the X structures. */
    async changeSalesOrder(input: {
      salesDocument: string;
      purchaseOrder?: string;
      requestedDate?: string;
      quantity?: number;
    }): Promise<void> {
      const header: Record<string, unknown> = {};
      const headerX: Record<string, unknown> = { UPDATEFLAG: 'U' };
      if (input.purchaseOrder !== undefined) {
        header.PURCH_NO_C = input.purchaseOrder;
        headerX.PURCH_NO_C = 'X';
      }
      if (input.requestedDate !== undefined) {
        header.REQ_DATE_H = input.requestedDate;
        headerX.REQ_DATE_H = 'X';
      }
      const items =
        input.quantity === undefined
          ? {}
          : {
              ORDER_ITEM_IN: { item: [{ ITM_NUMBER: '000010', TARGET_QTY: input.quantity }] },
              ORDER_ITEM_INX: { item: [{ ITM_NUMBER: '000010', UPDATEFLAG: 'U', TARGET_QTY: 'X' }] },
            };
      await classified('BAPI_SALESORDER_CHANGE', () =>
        client.session(async (s) => {
          const res = await call(s, 'BAPI_SALESORDER_CHANGE', {
            SALESDOCUMENT: input.salesDocument,
            ORDER_HEADER_IN: header,
            ORDER_HEADER_INX: headerX,
            ...items,
          });
          assertNoBapiError('BAPI_SALESORDER_CHANGE', res.RETURN);
          await commit(s);
        }),
      );
    },
  };
}

export type SapOrderActivities = ReturnType<typeof createSapOrderActivities>;
