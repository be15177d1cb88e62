import { activityInfo } from '@temporalio/activity';
import { toSapCustomerCreate } from '../../domain/customer';
import type { SapCustomerMatch, SapCustomerSource, SapSalesArea } from '../../domain/customer';
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

/**
 * SAP activities. Update BAPIs are not idempotent and take effect only with BAPI_TRANSACTION_COMMIT in
 * the same session, so each write runs BAPI + commit in one session, and a retried create first
 * checks whether an earlier attempt already committed the customer.
 */
export function createSapActivities({ client, salesArea }: SapDeps) {
  async function call(session: SapSession, operation: string, args: Record<string, unknown>) {
    try {
      return await session.call(operation, args);
    } catch (err) {
      throw classifySapError(err, operation);
    }
  }

  /** Runs `fn`, turning whatever the SOAP layer throws into a classified failure. */
  async function classified<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifySapError(err, operation);
    }
  }

  async function commit(session: SapSession): Promise<void> {
    const res = await call(session, 'BAPI_TRANSACTION_COMMIT', { WAIT: 'X' });
    assertNoBapiError('BAPI_TRANSACTION_COMMIT', res.RETURN);
  }

  /** Customers (not flagged for deletion) whose KNA1 fields equal `match`, via BAPI_CUSTOMER_FIND. */
  async function findCustomer(input: {
    match: SapCustomerMatch;
  }): Promise<{ customerNumber?: string; candidates: string[] }> {
    return classified('BAPI_CUSTOMER_FIND', async () => {
      const res = await client.call('BAPI_CUSTOMER_FIND', {
        MAX_CNT: 0,
        PL_HOLD: '',
        SELOPT_TAB: {
          item: Object.entries(input.match).map(([field, value]) => ({
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
      return classified('BAPI_CUSTOMER_CREATEFROMDATA1', () =>
        client.session(async (s) => {
          const res = await call(s, 'BAPI_CUSTOMER_CREATEFROMDATA1', {
            ...toSapCustomerCreate(input.customer, salesArea),
          });
          assertNoBapiError('BAPI_CUSTOMER_CREATEFROMDATA1', res.RETURN);
          const customerNumber = str(res.CUSTOMERNO);
          if (!customerNumber)
            throw classifySapError(new Error('no CUSTOMERNO in the answer'), 'BAPI_CUSTOMER_CREATEFROMDATA1');
          await commit(s);
          return { customerNumber, recoveredFromEarlierAttempt: false };
        }),
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
      const customerNumber =
        input.customerNumber ?? (await findCustomer({ match: input.match })).customerNumber;
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
