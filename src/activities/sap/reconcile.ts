import { comparableFromSap } from '../../domain/batch-sync';
import { bucketOf } from '../../domain/reconciliation';
import type { BucketDigest, ReconRow } from '../../domain/reconciliation';
import { digestRows } from '../salesforce/reconcile';
import { createSapBatchActivities } from './batch';
import type { SapDeps } from './batch';
import { assertNoBapiError, classifySapError } from './errors';

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/**
 * SAP side of the reconciliation: every customer not flagged for deletion (BAPI_CUSTOMER_FIND over
 * KUNNR with a wildcard, then BAPI_CUSTOMER_GETDETAIL2), except the reference customer new customers are
 * copied from, as rows keyed by KUNNR.
 */
export function createSapReconcileActivities(deps: SapDeps) {
  const batch = createSapBatchActivities(deps);
  async function numbers(): Promise<string[]> {
    try {
      const res = await deps.client.call('BAPI_CUSTOMER_FIND', {
        MAX_CNT: 0,
        PL_HOLD: 'X',
        SELOPT_TAB: { item: [{ TABNAME: 'KNA1', FIELDNAME: 'KUNNR', FIELDVALUE: '*' }] },
      });
      assertNoBapiError('BAPI_CUSTOMER_FIND', res.RETURN);
      const item = (res.RESULT_TAB as { item?: unknown } | undefined)?.item;
      const list = (Array.isArray(item) ? item : item ? [item] : []) as Record<string, unknown>[];
      const reference = deps.salesArea.referenceCustomer.padStart(10, '0');
      return list
        .filter((r) => str(r.DEL_FLAG_G) !== 'X')
        .map((r) => str(r.CUSTOMER))
        .filter((k) => k && k !== reference);
    } catch (err) {
      throw classifySapError(err, 'BAPI_CUSTOMER_FIND');
    }
  }
  async function rows(filter: (kunnr: string) => boolean): Promise<ReconRow[]> {
    const customers = await batch.readCustomers({ customerNumbers: (await numbers()).filter(filter) });
    return customers
      .filter((c) => c.LOEVM !== 'X')
      .map((c) => ({ kunnr: c.KUNNR, id: c.KUNNR, fields: comparableFromSap(c) }));
  }
  return {
    async reconCustomerDigests(): Promise<Record<string, BucketDigest>> {
      return digestRows(await rows(() => true));
    },
    async reconCustomerRows(input: { buckets: string[] }): Promise<ReconRow[]> {
      const wanted = new Set(input.buckets);
      return rows((k) => wanted.has(bucketOf(k)));
    },
  };
}

export type SapReconcileActivities = ReturnType<typeof createSapReconcileActivities>;
