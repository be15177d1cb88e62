/**
 * The Opportunity <-> SAP sales order pair, as one canonical record, and the rules that keep its two
 * faces in step: field ownership, last writer by source time, and echo recognition. Pure functions.
 *
 * Canonical fields and where they live:
 *   name           Opportunity.Name                 (SAP: not mapped)
 *   stage          Opportunity.StageName            (SAP: not mapped; Closed Won creates the order)
 *   material       Opportunity.SAP_Material__c      <-> first item MATERIAL
 *   quantity       Opportunity.Quantity__c          <-> first item quantity (TARGET_QTY / REQ_QTY)
 *   amount         Opportunity.Amount               <-  NET_VALUE (priced by SAP)
 *   requestedDate  Opportunity.CloseDate            <-> REQ_DATE_H
 */

export const orderFields = ['name', 'stage', 'material', 'quantity', 'amount', 'requestedDate'] as const;
export type OrderField = (typeof orderFields)[number];
export type OrderValues = {
  name: string;
  stage: string;
  material: string;
  quantity: number;
  amount: number;
  requestedDate: string;
};
export type FieldOwner = 'salesforce' | 'sap' | 'shared';
export type OrderSource = 'salesforce' | 'sap';

/** The default ownership: Salesforce owns the deal, SAP owns pricing, delivery date and quantity are shared. */
export const defaultFieldOwnership: Record<OrderField, FieldOwner> = {
  name: 'salesforce',
  stage: 'salesforce',
  material: 'salesforce',
  amount: 'sap',
  quantity: 'shared',
  requestedDate: 'shared',
};

const opportunityFieldOf: Record<OrderField, string> = {
  name: 'Name',
  stage: 'StageName',
  material: 'SAP_Material__c',
  quantity: 'Quantity__c',
  amount: 'Amount',
  requestedDate: 'CloseDate',
};

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
/**
 * A calendar date as YYYY-MM-DD. SAP dates travel as YYYY-MM-DD in SOAP XML; some payloads carry YYYYMMDD. An initial DATS field (no
 * date) is `0000-00-00` / `00000000`, never empty: that is no date, not the year zero.
 */
export const calendarDate = (v: unknown): string | undefined => {
  const s = text(v);
  if (!s) return undefined;
  const iso = /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}` : s.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso) || iso === '0000-00-00') return undefined;
  return iso;
};

/** Canonical values present in Opportunity fields (an event's or a record's). */
export function fromOpportunity(fields: Record<string, unknown>): Partial<OrderValues> {
  const out: Partial<OrderValues> = {};
  const name = text(fields.Name);
  const stage = text(fields.StageName);
  const material = text(fields.SAP_Material__c);
  const quantity = num(fields.Quantity__c);
  const amount = num(fields.Amount);
  const requestedDate = calendarDate(fields.CloseDate);
  if (name !== undefined) out.name = name;
  if (stage !== undefined) out.stage = stage;
  if (material !== undefined) out.material = material.toUpperCase();
  if (quantity !== undefined) out.quantity = quantity;
  if (amount !== undefined) out.amount = amount;
  if (requestedDate !== undefined) out.requestedDate = requestedDate;
  return out;
}

export interface SapOrderData {
  SALESDOCUMENT?: unknown;
  NET_VALUE?: unknown;
  REQ_DATE_H?: unknown;
  items?: { MATERIAL?: unknown; REQ_QTY?: unknown; TARGET_QTY?: unknown }[];
  [key: string]: unknown;
}

/** Canonical values in an SAP sales order event. */
export function fromSapOrder(data: SapOrderData): Partial<OrderValues> {
  const out: Partial<OrderValues> = {};
  const first = Array.isArray(data.items) ? data.items[0] : undefined;
  const material = text(first?.MATERIAL);
  const quantity = num(first?.REQ_QTY ?? first?.TARGET_QTY);
  const amount = num(data.NET_VALUE);
  const requestedDate = calendarDate(data.REQ_DATE_H);
  if (material !== undefined) out.material = material.toUpperCase();
  if (quantity !== undefined) out.quantity = quantity;
  if (amount !== undefined) out.amount = amount;
  if (requestedDate !== undefined) out.requestedDate = requestedDate;
  return out;
}

/** Only the canonical fields the source says changed (all present ones when it does not say). */
export function changedValues(
  values: Partial<OrderValues>,
  source: OrderSource,
  changedFields: string[] | undefined,
): Partial<OrderValues> {
  if (!changedFields?.length) return values;
  const changed = new Set(changedFields);
  const sapNames: Partial<Record<OrderField, string[]>> = {
    requestedDate: ['REQ_DATE_H'],
    quantity: ['TARGET_QTY', 'REQ_QTY', 'ITEMS'],
    material: ['MATERIAL', 'ITEMS'],
    amount: ['NET_VALUE', 'TARGET_QTY', 'REQ_QTY', 'ITEMS'],
  };
  return Object.fromEntries(
    Object.entries(values).filter(([field]) =>
      source === 'salesforce'
        ? changed.has(opportunityFieldOf[field as OrderField])
        : (sapNames[field as OrderField] ?? []).some((n) => changed.has(n)),
    ),
  );
}

export function toOpportunityFields(values: Partial<OrderValues>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([field, value]) => [opportunityFieldOf[field as OrderField], value]),
  );
}

export interface FieldVersion {
  source: OrderSource | 'inventory';
  at: string;
}

export interface ChangeDecision {
  /** Values to write into the other system. */
  accept: Partial<OrderValues>;
  rejected: { field: OrderField; reason: string }[];
}

/**
 * The conflict rule. A field owned by one system only moves when that system changes it; a change of
 * it from the other system is not propagated (and will be overwritten by the owner's next change). A
 * shared field takes the change with the newest source timestamp: an event older than the version
 * already applied for that field loses.
 */
export function resolveChange(input: {
  source: OrderSource;
  at: string;
  values: Partial<OrderValues>;
  ownership: Partial<Record<OrderField, FieldOwner>>;
  versions: Record<string, FieldVersion>;
}): ChangeDecision {
  const accept: Partial<OrderValues> = {};
  const rejected: ChangeDecision['rejected'] = [];
  for (const [key, value] of Object.entries(input.values)) {
    const field = key as OrderField;
    const owner = input.ownership[field] ?? defaultFieldOwnership[field];
    const applied = input.versions[field];
    if (owner !== 'shared' && owner !== input.source) {
      rejected.push({ field, reason: `owned by ${owner}` });
      continue;
    }
    if (applied && Date.parse(applied.at) > Date.parse(input.at)) {
      rejected.push({ field, reason: `older than the ${applied.source} change of ${applied.at}` });
      continue;
    }
    (accept as Record<string, unknown>)[field] = value;
  }
  return { accept, rejected };
}

/**
 * Whether a change was made by the coordinator itself, from the origin the source reports. A marker
 * `client=<name>` must equal one `;`-separated part of Salesforce's `changeOrigin`
 * (`com/salesforce/api/rest/62.0;client=<name>`); any other marker must equal the origin exactly (SAP's
 * `CHANGED_BY` user). Exact, so `client=sync-staging` or a user `RFC_ADMIN` is never taken for ours.
 */
export function isOwnOrigin(origin: string | undefined, ownMarkers: string[]): boolean {
  if (!origin) return false;
  const parts = origin.split(';').map((p) => p.trim());
  return ownMarkers.some((m) =>
    m.startsWith('client=') ? parts.includes(m) : m !== '' && origin.trim().toUpperCase() === m.toUpperCase(),
  );
}

/** The values of fields owned by `source`: all an own-origin event may still carry that matters. */
export function ownedBy(
  source: OrderSource,
  values: Partial<OrderValues>,
  ownership: Partial<Record<OrderField, FieldOwner>>,
): Partial<OrderValues> {
  return Object.fromEntries(
    Object.entries(values).filter(
      ([f]) => (ownership[f as OrderField] ?? defaultFieldOwnership[f as OrderField]) === source,
    ),
  );
}
