import { sapName1, toE164 } from './customer-mapping';
import type { SapCustomerSource } from './customer-mapping';

/**
 * The scheduled batch sync's vocabulary: which way a sync runs, its cursor, its counts, and the field
 * mappings between a Salesforce Account and an SAP customer (KNA1) that both directions and the
 * reconciliation use. Pure: no I/O. See docs/flows/batch-sync.md.
 */

export const syncDirections = ['salesforce-to-sap', 'sap-to-salesforce'] as const;
export type SyncDirection = (typeof syncDirections)[number];

/**
 * Where a sync has got to. Salesforce: the pair (SystemModstamp, Id) of the last record written, so
 * records sharing a timestamp are never skipped. SAP: the last DEBMAS change pointer processed
 * (creation time stamp and CPIDENT, which ascends).
 */
export type SyncCursor =
  | { system: 'salesforce'; systemModstamp: string; id: string }
  | { system: 'sap'; createdAt: string; pointer: string };

export function sourceSystemOf(direction: SyncDirection): 'salesforce' | 'sap' {
  return direction === 'salesforce-to-sap' ? 'salesforce' : 'sap';
}

/** Later of two cursors of the same system (a lookback re-read must never move the cursor back). */
export function laterCursor(a: SyncCursor | undefined, b: SyncCursor | undefined): SyncCursor | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareCursors(a, b) >= 0 ? a : b;
}

export function compareCursors(a: SyncCursor, b: SyncCursor): number {
  if (a.system === 'salesforce' && b.system === 'salesforce') {
    const t = Date.parse(a.systemModstamp) - Date.parse(b.systemModstamp);
    return t !== 0 ? t : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }
  if (a.system === 'sap' && b.system === 'sap') {
    return BigInt(a.pointer) < BigInt(b.pointer) ? -1 : BigInt(a.pointer) > BigInt(b.pointer) ? 1 : 0;
  }
  throw new Error('cursors of different systems cannot be compared');
}

export type RecordOutcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'quarantined' | 'skipped';

export interface SyncCounts {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
  /** Changes the coordinator made itself, coming back (echoes), and pointers with nothing to do. */
  skipped: number;
}

export const emptyCounts = (): SyncCounts => ({
  read: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  quarantined: 0,
  skipped: 0,
});

export function addCounts(a: SyncCounts, b: Partial<SyncCounts>): SyncCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof SyncCounts)[]) out[k] += b[k] ?? 0;
  return out;
}

/** A record the target refused for a business reason; kept until redriven. */
export interface QuarantinedRecord {
  /** Source record id: Salesforce Account id or SAP customer number. */
  recordId: string;
  direction: SyncDirection;
  errorType: string;
  reason: string;
  firstSeenAt: string;
  lastSeenAt: string;
  attempts: number;
  /** The run that quarantined it last. */
  workflowId: string;
}

// ------------------------------------------------------------------ Account <-> SAP customer mapping

/** The Account fields the sync reads and writes. */
export const accountSyncFields = [
  'Id',
  'Name',
  'Phone',
  'BillingStreet',
  'BillingCity',
  'BillingPostalCode',
  'BillingCountry',
  'SAP_Customer_Number__c',
  'Integration_Id__c',
  'IsDeleted',
  'SystemModstamp',
] as const;

/** An Account as a batch read returns it (REST JSON or Bulk CSV, normalised). */
export interface AccountRecord {
  Id: string;
  Name: string | null;
  Phone: string | null;
  BillingStreet: string | null;
  BillingCity: string | null;
  BillingPostalCode: string | null;
  BillingCountry: string | null;
  SAP_Customer_Number__c: string | null;
  Integration_Id__c: string | null;
  IsDeleted: boolean;
  SystemModstamp: string;
}

/** The SAP customer master fields the sync compares and writes (KNA1 names). */
export interface SapCustomerFields {
  KUNNR: string;
  NAME1: string;
  STRAS: string;
  ORT01: string;
  PSTLZ: string;
  LAND1: string;
  TELF1: string;
  /** Central deletion flag: X = flagged for deletion. */
  LOEVM: string;
}

/** The customer fields both systems hold, in one shape: what is compared, hashed and written. */
export interface ComparableCustomer {
  name: string;
  street: string;
  city: string;
  postalCode: string;
  country: string;
  phone: string;
}

export const comparableFields: (keyof ComparableCustomer)[] = [
  'name',
  'street',
  'city',
  'postalCode',
  'country',
  'phone',
];

const clean = (v: string | null | undefined) => (v ?? '').trim();
/** SAP's TELF1 holds 16 characters; a longer number is compared by what fits. */
const phoneKey = (v: string) => (toE164(v) ?? v).slice(0, 16);

export function comparableFromAccount(a: AccountRecord): ComparableCustomer {
  return {
    name: clean(a.Name),
    street: clean(a.BillingStreet),
    city: clean(a.BillingCity),
    postalCode: clean(a.BillingPostalCode),
    country: clean(a.BillingCountry).toUpperCase(),
    phone: clean(a.Phone) ? phoneKey(clean(a.Phone)) : '',
  };
}

export function comparableFromSap(c: SapCustomerFields): ComparableCustomer {
  return {
    name: clean(c.NAME1),
    street: clean(c.STRAS),
    city: clean(c.ORT01),
    postalCode: clean(c.PSTLZ),
    country: clean(c.LAND1).toUpperCase(),
    phone: clean(c.TELF1) ? phoneKey(clean(c.TELF1)) : '',
  };
}

export function comparableFromSource(s: SapCustomerSource): ComparableCustomer {
  return {
    name: sapName1(s),
    street: s.address.street,
    city: s.address.city,
    postalCode: s.address.postalCode,
    country: s.address.country,
    phone: s.phone ? phoneKey(s.phone) : '',
  };
}

/** The fields whose values differ (empty: the two agree). */
export function fieldDrift(a: ComparableCustomer, b: ComparableCustomer): (keyof ComparableCustomer)[] {
  return comparableFields.filter((f) => a[f] !== b[f]);
}

/** The Account fields an SAP customer maps to (SAP -> Salesforce direction). */
export function sapCustomerToAccountFields(c: SapCustomerFields): Record<string, string | null> {
  const v = comparableFromSap(c);
  return {
    Name: v.name || null,
    BillingStreet: v.street || null,
    BillingCity: v.city || null,
    BillingPostalCode: v.postalCode || null,
    BillingCountry: v.country || null,
    Phone: v.phone || null,
    SAP_Customer_Number__c: c.KUNNR,
  };
}

/** The Integration_Id__c of an Account the sync creates for a customer that exists only in SAP. */
export function sapOriginReference(kunnr: string): string {
  return `sap:${kunnr}`;
}
