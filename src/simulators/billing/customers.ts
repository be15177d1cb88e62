import { invalidRequest, resourceMissing, stripeId } from './errors';
import { matchesQuery } from './search';
import type { ParsedQuery } from './search';

/**
 * Customers as Stripe's API reference describes the object and its create / update parameters. Only
 * the parameters a CRM/ERP integration sends are accepted (address, description, email, metadata,
 * name, phone, preferred_locales, expand); any other is rejected the way Stripe rejects an unknown
 * parameter (400 `parameter_unknown`, naming it), so a client that sends something this simulator
 * would silently ignore is told so.
 */
export interface Address {
  line1: string | null;
  line2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  country: string | null;
}

export interface Customer {
  id: string;
  object: 'customer';
  address: Address | null;
  balance: number;
  created: number;
  currency: string | null;
  default_source: string | null;
  delinquent: boolean;
  description: string | null;
  discount: null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: {
    custom_fields: null;
    default_payment_method: null;
    footer: null;
    rendering_options: null;
  };
  livemode: boolean;
  metadata: Record<string, string>;
  name: string | null;
  next_invoice_sequence: number;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: 'none';
  test_clock: null;
}

export interface DeletedCustomer {
  id: string;
  object: 'customer';
  deleted: true;
}

/** A stored customer: the object plus what the simulator keeps about it. */
export interface StoredCustomer {
  customer: Customer;
  deleted: boolean;
  /** When the customer becomes visible to search (Stripe's search index lags behind writes). */
  searchableAt: number;
}

/** Params as parsed from a form body: strings, nested objects, arrays. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormParams = Record<string, FormValue>;

const TOP_LEVEL = new Set([
  'address',
  'description',
  'email',
  'metadata',
  'name',
  'phone',
  'preferred_locales',
  'expand',
]);
const ADDRESS_FIELDS = ['line1', 'line2', 'city', 'state', 'postal_code', 'country'] as const;
const MAX_METADATA_KEYS = 50;
const MAX_METADATA_KEY_LENGTH = 40;
const MAX_METADATA_VALUE_LENGTH = 500;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function stringParam(params: FormParams, name: string, maxLength: number, param = name): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw invalidRequest(`Invalid string: ${JSON.stringify(v)}`, { code: 'parameter_invalid_string', param });
  if (v.length > maxLength) {
    throw invalidRequest(`Invalid ${param}: must be at most ${maxLength} characters`, {
      code: 'parameter_invalid_string',
      param,
    });
  }
  return v;
}

/** Checks the parameters of a create or an update, before anything is written. */
export function validateCustomerParams(params: FormParams): void {
  for (const key of Object.keys(params)) {
    if (!TOP_LEVEL.has(key))
      throw invalidRequest(`Received unknown parameter: ${key}`, { code: 'parameter_unknown', param: key });
  }
  stringParam(params, 'name', 256);
  stringParam(params, 'description', 350);
  stringParam(params, 'phone', 20);
  const email = stringParam(params, 'email', 512);
  if (email && !EMAIL.test(email)) {
    throw invalidRequest(`Invalid email address: ${email}`, { code: 'email_invalid', param: 'email' });
  }
  const address = params.address;
  if (address !== undefined && address !== '') {
    if (typeof address !== 'object' || Array.isArray(address)) {
      throw invalidRequest('Invalid object', { code: 'parameter_invalid_empty', param: 'address' });
    }
    for (const key of Object.keys(address)) {
      if (!(ADDRESS_FIELDS as readonly string[]).includes(key)) {
        throw invalidRequest(`Received unknown parameter: address[${key}]`, {
          code: 'parameter_unknown',
          param: `address[${key}]`,
        });
      }
      stringParam(address, key, 200, `address[${key}]`);
    }
    const country = address.country;
    if (typeof country === 'string' && country !== '' && !/^[A-Z]{2}$/.test(country)) {
      throw invalidRequest(
        `Country '${country}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'.`,
        {
          code: 'parameter_invalid_string',
          param: 'address[country]',
        },
      );
    }
  }
  const metadata = params.metadata;
  if (metadata !== undefined && metadata !== '') {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw invalidRequest('Invalid object', { param: 'metadata' });
    }
    const keys = Object.keys(metadata);
    if (keys.length > MAX_METADATA_KEYS) {
      throw invalidRequest(`Invalid metadata: must have at most ${MAX_METADATA_KEYS} keys`, {
        param: 'metadata',
      });
    }
    for (const key of keys) {
      if (key.length > MAX_METADATA_KEY_LENGTH || /[[\]]/.test(key)) {
        throw invalidRequest(
          `Invalid metadata: keys must be at most ${MAX_METADATA_KEY_LENGTH} characters and contain no square brackets ('${key}')`,
          { param: `metadata[${key}]` },
        );
      }
      stringParam(metadata, key, MAX_METADATA_VALUE_LENGTH, `metadata[${key}]`);
    }
  }
  const locales = params.preferred_locales;
  if (locales !== undefined && locales !== '') {
    const list = Array.isArray(locales)
      ? locales
      : typeof locales === 'object'
        ? Object.values(locales)
        : undefined;
    if (!list || list.some((l) => typeof l !== 'string')) {
      throw invalidRequest('Invalid array', { param: 'preferred_locales' });
    }
  }
  const expand = params.expand;
  if (expand !== undefined && !Array.isArray(expand) && typeof expand !== 'object') {
    throw invalidRequest('Invalid array', { param: 'expand' });
  }
}

const nullIfEmpty = (v: FormValue | undefined): string | null =>
  typeof v === 'string' && v !== '' ? v : null;

function applyParams(customer: Customer, params: FormParams): void {
  if ('name' in params) customer.name = nullIfEmpty(params.name);
  if ('email' in params) customer.email = nullIfEmpty(params.email);
  if ('phone' in params) customer.phone = nullIfEmpty(params.phone);
  if ('description' in params) customer.description = nullIfEmpty(params.description);
  if ('address' in params) {
    const a = params.address;
    if (a === '' || typeof a !== 'object' || Array.isArray(a)) {
      customer.address = null;
    } else {
      const base: Address = customer.address ?? {
        line1: null,
        line2: null,
        city: null,
        state: null,
        postal_code: null,
        country: null,
      };
      for (const f of ADDRESS_FIELDS) if (f in a) base[f] = nullIfEmpty(a[f]);
      customer.address = base;
    }
  }
  if ('metadata' in params) {
    const m = params.metadata;
    // `metadata=` (empty) unsets every key; `metadata[key]=` (empty) unsets that key.
    if (m === '' || typeof m !== 'object' || Array.isArray(m)) {
      customer.metadata = {};
    } else {
      for (const [k, v] of Object.entries(m)) {
        if (v === '') delete customer.metadata[k];
        else customer.metadata[k] = v as string;
      }
    }
  }
  if ('preferred_locales' in params) {
    const l = params.preferred_locales;
    customer.preferred_locales = Array.isArray(l)
      ? (l as string[])
      : typeof l === 'object'
        ? (Object.values(l) as string[])
        : [];
  }
}

export interface ListParams {
  email?: string;
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** The customers of one simulator, newest first in lists as Stripe returns them. */
export class CustomerStore {
  private customers = new Map<string, StoredCustomer>();
  /** Creation order, for stable "newest first" listing when several share a second. */
  private order: string[] = [];

  constructor(
    private readonly searchIndexDelayMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  reset(): void {
    this.customers.clear();
    this.order = [];
  }

  create(params: FormParams, livemode: boolean): Customer {
    const id = stripeId('cus');
    const customer: Customer = {
      id,
      object: 'customer',
      address: null,
      balance: 0,
      created: Math.floor(this.now() / 1000),
      currency: null,
      default_source: null,
      delinquent: false,
      description: null,
      discount: null,
      email: null,
      invoice_prefix: id.slice(4, 12).toUpperCase(),
      invoice_settings: {
        custom_fields: null,
        default_payment_method: null,
        footer: null,
        rendering_options: null,
      },
      livemode,
      metadata: {},
      name: null,
      next_invoice_sequence: 1,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    applyParams(customer, params);
    this.customers.set(id, { customer, deleted: false, searchableAt: this.now() + this.searchIndexDelayMs });
    this.order.push(id);
    return structuredClone(customer);
  }

  /** A live customer, or the deleted stub Stripe returns for a deleted one. */
  retrieve(id: string): Customer | DeletedCustomer {
    const stored = this.customers.get(id);
    if (!stored) throw resourceMissing('customer', id);
    if (stored.deleted) return { id, object: 'customer', deleted: true };
    return structuredClone(stored.customer);
  }

  update(id: string, params: FormParams): Customer {
    const stored = this.customers.get(id);
    if (!stored || stored.deleted) throw resourceMissing('customer', id);
    applyParams(stored.customer, params);
    stored.searchableAt = this.now() + this.searchIndexDelayMs;
    return structuredClone(stored.customer);
  }

  delete(id: string): DeletedCustomer {
    const stored = this.customers.get(id);
    if (!stored || stored.deleted) throw resourceMissing('customer', id);
    stored.deleted = true;
    return { id, object: 'customer', deleted: true };
  }

  list(p: ListParams): Page<Customer> {
    let live = [...this.order]
      .reverse()
      .map((id) => this.customers.get(id)!)
      .filter((s) => !s.deleted && (p.email === undefined || s.customer.email === p.email))
      .map((s) => s.customer);
    if (p.startingAfter !== undefined) {
      const at = live.findIndex((c) => c.id === p.startingAfter);
      if (at === -1) throw resourceMissing('customer', p.startingAfter, 'starting_after');
      live = live.slice(at + 1);
    } else if (p.endingBefore !== undefined) {
      const at = live.findIndex((c) => c.id === p.endingBefore);
      if (at === -1) throw resourceMissing('customer', p.endingBefore, 'ending_before');
      live = live.slice(Math.max(0, at - p.limit), at);
      return { data: structuredClone(live), hasMore: at - p.limit > 0 };
    }
    return { data: structuredClone(live.slice(0, p.limit)), hasMore: live.length > p.limit };
  }

  /** Search sees only what the index has caught up with (`searchIndexDelayMs` after each write). */
  search(q: ParsedQuery, limit: number, offset: number): Page<Customer> & { total: number } {
    const now = this.now();
    const hits = [...this.order]
      .reverse()
      .map((id) => this.customers.get(id)!)
      .filter(
        (s) =>
          !s.deleted &&
          s.searchableAt <= now &&
          matchesQuery(q, s.customer as unknown as Parameters<typeof matchesQuery>[1]),
      )
      .map((s) => s.customer);
    return {
      data: structuredClone(hits.slice(offset, offset + limit)),
      hasMore: hits.length > offset + limit,
      total: hits.length,
    };
  }

  /** Every customer, deleted ones included (flagged), for the admin surface and tests. */
  all(): (Customer & { deleted?: true })[] {
    return this.order.map((id) => {
      const s = this.customers.get(id)!;
      return s.deleted
        ? { ...structuredClone(s.customer), deleted: true as const }
        : structuredClone(s.customer);
    });
  }
}
