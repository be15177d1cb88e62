import type { ComparableCustomer } from './batch-sync';
import { comparableFields } from './batch-sync';

/**
 * Reconciliation of Salesforce Accounts and SAP customers over the cross-reference (the Account's
 * SAP_Customer_Number__c = KUNNR). Each side is cut into buckets by customer number; a bucket's count and
 * hash are compared first, rows only where a bucket differs. Pure; hashing is done by the caller.
 */

export const UNLINKED_BUCKET = 'unlinked';

/** Bucket of a customer number: its last two digits (100 buckets), or `unlinked` for an Account without one. */
export function bucketOf(kunnr: string | null | undefined): string {
  if (!kunnr) return UNLINKED_BUCKET;
  return kunnr.slice(-2).padStart(2, '0');
}

/** One side's row: the cross-reference key, the source id and the comparable fields. */
export interface ReconRow {
  /** KUNNR (SAP, or the Account's link); empty for an unlinked Account. */
  kunnr: string;
  /** Account id (Salesforce) or KUNNR (SAP). */
  id: string;
  fields: ComparableCustomer;
}

/** A canonical line per row: what the bucket hash is taken over. */
export function rowLine(r: ReconRow): string {
  return [r.kunnr, ...comparableFields.map((f) => r.fields[f])].join('\u001f');
}

export interface BucketDigest {
  count: number;
  hash: string;
}

export type DriftKind = 'missing-in-sap' | 'missing-in-salesforce' | 'field-drift' | 'duplicate-in-sap';

export interface DriftItem {
  kind: DriftKind;
  kunnr?: string;
  accountId?: string;
  /** Other SAP customers that look like the same one (duplicates). */
  duplicates?: string[];
  fields?: { field: keyof ComparableCustomer; salesforce: string; sap: string }[];
}

/** Buckets whose count or hash differ (or exist on one side only). */
export function differingBuckets(
  sf: Record<string, BucketDigest>,
  sap: Record<string, BucketDigest>,
): string[] {
  const all = new Set([...Object.keys(sf), ...Object.keys(sap)]);
  return [...all]
    .filter((b) => b === UNLINKED_BUCKET || sf[b]?.hash !== sap[b]?.hash || sf[b]?.count !== sap[b]?.count)
    .filter((b) => (sf[b]?.count ?? 0) + (sap[b]?.count ?? 0) > 0)
    .sort();
}

const matchKey = (f: ComparableCustomer) =>
  [f.name, f.street, f.city, f.postalCode, f.country].join('\u001f').toUpperCase();

/**
 * Row-level diff of the differing buckets. An SAP customer no Account links to is a duplicate when a
 * linked Account has the same name and address (two SAP customers for one reference: a commit that
 * landed after the coordinator's duplicate check); `sfByName` are Accounts of any bucket carrying the
 * names of such customers, read for exactly this check.
 */
export function diffRows(sfRows: ReconRow[], sapRows: ReconRow[], sfByName: ReconRow[] = []): DriftItem[] {
  const items: DriftItem[] = [];
  const sapByKunnr = new Map(sapRows.map((r) => [r.kunnr, r]));
  const linked = new Set([...sfRows, ...sfByName].filter((r) => r.kunnr).map((r) => r.kunnr));
  for (const a of sfRows) {
    if (!a.kunnr) {
      items.push({ kind: 'missing-in-sap', accountId: a.id });
      continue;
    }
    const c = sapByKunnr.get(a.kunnr);
    if (!c) {
      items.push({ kind: 'missing-in-sap', accountId: a.id, kunnr: a.kunnr });
      continue;
    }
    const fields = comparableFields
      .filter((f) => a.fields[f] !== c.fields[f])
      .map((f) => ({ field: f, salesforce: a.fields[f], sap: c.fields[f] }));
    if (fields.length > 0) items.push({ kind: 'field-drift', accountId: a.id, kunnr: a.kunnr, fields });
  }
  const accounts = [...sfRows, ...sfByName];
  for (const c of sapRows) {
    if (linked.has(c.kunnr)) continue;
    const twin = accounts.find(
      (a) => a.kunnr && a.kunnr !== c.kunnr && matchKey(a.fields) === matchKey(c.fields),
    );
    if (twin) {
      items.push({ kind: 'duplicate-in-sap', accountId: twin.id, kunnr: twin.kunnr, duplicates: [c.kunnr] });
    } else {
      items.push({ kind: 'missing-in-salesforce', kunnr: c.kunnr });
    }
  }
  return items;
}
