import { createHash } from 'node:crypto';
import { comparableFromAccount } from '../../domain/batch-sync';
import type { AccountRecord } from '../../domain/batch-sync';
import { bucketOf, rowLine } from '../../domain/reconciliation';
import type { BucketDigest, ReconRow } from '../../domain/reconciliation';
import type { SalesforceClient } from './client';
import { soqlString } from './client';
import { classifySalesforceError } from './errors';

const FIELDS =
  'Id, Name, Phone, BillingStreet, BillingCity, BillingPostalCode, BillingCountry, SAP_Customer_Number__c';

export function digestRows(rows: ReconRow[]): Record<string, BucketDigest> {
  const lines = new Map<string, string[]>();
  for (const r of rows) {
    const b = bucketOf(r.kunnr);
    lines.set(b, [...(lines.get(b) ?? []), rowLine(r)]);
  }
  return Object.fromEntries(
    [...lines].map(([b, l]) => [
      b,
      { count: l.length, hash: createHash('sha256').update(l.sort().join('\n')).digest('hex').slice(0, 32) },
    ]),
  );
}

/** Salesforce side of the reconciliation: live Accounts as rows keyed by their SAP customer number. */
export function createSalesforceReconcileActivities({ client }: { client: SalesforceClient }) {
  async function rows(where = ''): Promise<ReconRow[]> {
    try {
      const conn = await client.ready();
      const res = await conn.query<Record<string, unknown>>(`SELECT ${FIELDS} FROM Account${where}`, {
        autoFetch: true,
        maxFetch: 1_000_000,
      });
      return res.records.map((a) => ({
        kunnr: typeof a.SAP_Customer_Number__c === 'string' ? a.SAP_Customer_Number__c : '',
        id: String(a.Id),
        fields: comparableFromAccount(a as unknown as AccountRecord),
      }));
    } catch (err) {
      throw classifySalesforceError(err, 'reconciliation read');
    }
  }
  return {
    async reconAccountDigests(): Promise<Record<string, BucketDigest>> {
      return digestRows(await rows());
    },
    async reconAccountRows(input: { buckets: string[]; names?: string[] }): Promise<ReconRow[]> {
      const wanted = new Set(input.buckets);
      const inBuckets = (await rows()).filter((r) => wanted.has(bucketOf(r.kunnr)));
      if (!input.names?.length) return inBuckets;
      const byName = await rows(` WHERE Name IN (${input.names.map(soqlString).join(', ')})`);
      const seen = new Set(inBuckets.map((r) => r.id));
      return [...inBuckets, ...byName.filter((r) => !seen.has(r.id)).map((r) => ({ ...r, id: r.id }))];
    },
  };
}

export type SalesforceReconcileActivities = ReturnType<typeof createSalesforceReconcileActivities>;
