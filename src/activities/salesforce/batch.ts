import { Context } from '@temporalio/activity';
import { heartbeat } from '../heartbeat';
import { ApplicationFailure } from '@temporalio/common';
import type { Connection } from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api';
import type { AccountRecord, RecordOutcome, SapCustomerFields } from '../../domain/batch-sync';
import { accountSyncFields, sapCustomerToAccountFields, sapOriginReference } from '../../domain/batch-sync';
import { ErrorType } from '../../domain/error-types';
import type { SalesforceClient } from './client';
import { soqlString } from './client';
import { classifySalesforceError } from './errors';

/**
 * Salesforce activities of the scheduled batch sync: change reads by (SystemModstamp, Id) through REST
 * query paging (`nextRecordsUrl`) or Bulk API 2.0 query jobs, and writes in sObject Collections of at
 * most 200 records with allOrNone = false, so one bad record never holds back the other 199. Every
 * answer carries the org's API usage (Sforce-Limit-Info) so the workflow can park before the quota runs
 * out. See docs/flows/batch-sync.md.
 */

export interface ApiUsage {
  used: number;
  limit: number;
}

/** Where a read resumes: after this (SystemModstamp, Id); an empty id means "from this instant on". */
export interface AccountPosition {
  systemModstamp: string;
  id: string;
}

export interface AccountReadWindow {
  after?: AccountPosition;
  /** Inclusive upper bound of SystemModstamp (the run's start, or a backfill's end). */
  until?: string;
  /** Inclusive lower bound (backfill start). */
  from?: string;
}

export interface AccountPage {
  records: (AccountRecord & { ownChange: boolean })[];
  nextRecordsUrl?: string;
  apiUsage?: ApiUsage;
}

export interface CollectionOutcome {
  recordId: string;
  outcome: RecordOutcome;
  errorType?: string;
  reason?: string;
}

/** Salesforce codes inside collection results that pass with time: the whole batch is retried. */
const transientSaveCodes = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION']);

const MAX_COLLECTION = 200;

/** SOQL datetime literal (no quotes), in UTC. */
export function soqlDateTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The WHERE clause of a change read: strictly after (ts, id), within [from, until]. */
export function changeWhere(w: AccountReadWindow): string {
  const parts: string[] = [];
  if (w.after) {
    const ts = soqlDateTime(w.after.systemModstamp);
    parts.push(
      w.after.id
        ? `(SystemModstamp > ${ts} OR (SystemModstamp = ${ts} AND Id > ${soqlString(w.after.id)}))`
        : `SystemModstamp >= ${ts}`,
    );
  }
  if (w.from) parts.push(`SystemModstamp >= ${soqlDateTime(w.from)}`);
  if (w.until) parts.push(`SystemModstamp <= ${soqlDateTime(w.until)}`);
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

const readFields = [...accountSyncFields, 'LastModifiedById'];

function accountSoql(w: AccountReadWindow): string {
  return `SELECT ${readFields.join(', ')} FROM Account${changeWhere(w)} ORDER BY SystemModstamp, Id`;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** A REST (JSON) or Bulk (CSV, all strings) row as an AccountRecord. */
function toAccount(row: Record<string, unknown>, integrationUserId: string | undefined) {
  const modstamp = typeof row.SystemModstamp === 'string' ? row.SystemModstamp : '';
  return {
    Id: String(row.Id),
    Name: text(row.Name),
    Phone: text(row.Phone),
    BillingStreet: text(row.BillingStreet),
    BillingCity: text(row.BillingCity),
    BillingPostalCode: text(row.BillingPostalCode),
    BillingCountry: text(row.BillingCountry),
    SAP_Customer_Number__c: text(row.SAP_Customer_Number__c),
    Integration_Id__c: text(row.Integration_Id__c),
    IsDeleted: row.IsDeleted === true || row.IsDeleted === 'true',
    // REST gives 2026-01-01T00:00:00.000+0000, Bulk CSV ...Z; both parse, one form goes on.
    SystemModstamp: new Date(modstamp.replace(/\+0000$/, 'Z')).toISOString(),
    ownChange: Boolean(integrationUserId) && row.LastModifiedById === integrationUserId,
  };
}

function limitInfo(header: unknown): ApiUsage | undefined {
  const m = /api-usage=(\d+)\/(\d+)/.exec(typeof header === 'string' ? header : '');
  return m ? { used: Number(m[1]), limit: Number(m[2]) } : undefined;
}

export function createSalesforceBatchActivities({ client }: { client: SalesforceClient }) {
  async function run<T>(action: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
    try {
      return await fn(await client.ready());
    } catch (err) {
      throw classifySalesforceError(err, action);
    }
  }
  const usageOf = (conn: Connection): ApiUsage | undefined => conn.limitInfo?.apiUsage;

  /** A raw REST call that also returns the response headers (jsforce's request() does not). */
  async function rawRequest<T>(
    conn: Connection,
    url: string,
    responseType?: string,
  ): Promise<{ body: T; headers: Record<string, string> }> {
    let headers: Record<string, string> = {};
    const api = new HttpApi(conn, responseType ? { responseType } : {});
    api.on('response', (res: { headers: Record<string, string> }) => {
      headers = res.headers;
    });
    const body = (await api.request<T>({
      method: 'GET',
      url: url.startsWith('/services/') ? conn.instanceUrl + url : url,
      headers: responseType ? { Accept: responseType } : {},
    })) as T;
    return { body, headers };
  }

  return {
    /** How many Accounts changed in the window (COUNT() over queryAll, deleted ones included). */
    async countAccountChanges(input: AccountReadWindow): Promise<{ count: number; apiUsage?: ApiUsage }> {
      return run('change count', async (conn) => {
        const res = await conn.request<{ totalSize: number }>(
          `/queryAll?q=${encodeURIComponent(`SELECT COUNT() FROM Account${changeWhere(input)}`)}`,
        );
        return { count: res.totalSize, apiUsage: usageOf(conn) };
      });
    },

    /**
     * One page of changed Accounts (deleted ones included, `queryAll`), ordered by (SystemModstamp, Id).
     * A `nextRecordsUrl` from the previous page continues the same query; when Salesforce no longer
     * knows the locator (it expires), the page is read afresh from the position.
     */
    async readAccountPage(
      input: AccountReadWindow & { pageSize: number; nextRecordsUrl?: string },
    ): Promise<AccountPage> {
      return run('change read', async (conn) => {
        type Batch = { records: Record<string, unknown>[]; done: boolean; nextRecordsUrl?: string };
        let res: Batch | undefined;
        if (input.nextRecordsUrl) {
          try {
            res = await conn.request<Batch>(input.nextRecordsUrl);
          } catch (err) {
            if ((err as { errorCode?: string }).errorCode !== 'INVALID_QUERY_LOCATOR') throw err;
          }
        }
        res ??= await conn.request<Batch>({
          method: 'GET',
          url: `/queryAll?q=${encodeURIComponent(accountSoql(input))}`,
          // Salesforce honours a batch size between 200 and 2000 only; below that its default applies.
          headers: input.pageSize >= 200 ? { 'Sforce-Query-Options': `batchSize=${input.pageSize}` } : {},
        });
        const userId = conn.userInfo?.id;
        return {
          records: res.records.map((r) => toAccount(r, userId)),
          ...(res.done || !res.nextRecordsUrl ? {} : { nextRecordsUrl: res.nextRecordsUrl }),
          apiUsage: usageOf(conn),
        };
      });
    },

    /** Creates a Bulk API 2.0 query job (queryAll) over the window, ordered by (SystemModstamp, Id). */
    async startBulkAccountQuery(input: AccountReadWindow): Promise<{ jobId: string; apiUsage?: ApiUsage }> {
      return run('bulk query create', async (conn) => {
        const job = await conn.request<{ id: string }>({
          method: 'POST',
          url: '/jobs/query',
          body: JSON.stringify({ operation: 'queryAll', query: accountSoql(input), contentType: 'CSV' }),
          headers: { 'content-type': 'application/json' },
        });
        return { jobId: job.id, apiUsage: usageOf(conn) };
      });
    },

    /** Polls the job until JobComplete, heartbeating its state; fails on Aborted / Failed. */
    async awaitBulkQuery(input: {
      jobId: string;
      pollMs: number;
    }): Promise<{ records: number; apiUsage?: ApiUsage }> {
      return run('bulk query poll', async (conn) => {
        for (;;) {
          const info = await conn.request<{ state: string; numberRecordsProcessed?: number }>(
            `/jobs/query/${input.jobId}`,
          );
          heartbeat({ jobId: input.jobId, state: info.state });
          if (info.state === 'JobComplete')
            return { records: info.numberRecordsProcessed ?? 0, apiUsage: usageOf(conn) };
          if (info.state === 'Aborted' || info.state === 'Failed') {
            throw ApplicationFailure.create({
              type: ErrorType.SystemUnavailable,
              nonRetryable: true,
              message: `Bulk API 2.0 query job ${input.jobId} ended ${info.state}`,
            });
          }
          await Context.current().sleep(input.pollMs);
        }
      });
    },

    /** One results set of a completed job (`maxRecords`, `locator`); the next locator, if any. */
    async readBulkPage(input: {
      jobId: string;
      locator?: string;
      pageSize: number;
    }): Promise<AccountPage & { nextLocator?: string }> {
      return run('bulk query results', async (conn) => {
        const query = new URLSearchParams({ maxRecords: String(input.pageSize) });
        if (input.locator) query.set('locator', input.locator);
        const { body, headers } = await rawRequest<Record<string, unknown>[] | string>(
          conn,
          `/services/data/v${conn.version}/jobs/query/${input.jobId}/results?${query.toString()}`,
          'text/csv',
        );
        const rows = Array.isArray(body) ? body : [];
        const next = headers['sforce-locator'];
        return {
          records: rows.map((r) => toAccount(r, conn.userInfo?.id)),
          ...(next && next !== 'null' ? { nextLocator: next } : {}),
          apiUsage: limitInfo(headers['sforce-limit-info']) ?? usageOf(conn),
        };
      });
    },

    async deleteBulkQuery(input: { jobId: string }): Promise<void> {
      await run('bulk query delete', async (conn) => {
        try {
          await conn.request({ method: 'DELETE', url: `/jobs/query/${input.jobId}` });
        } catch (err) {
          if ((err as { errorCode?: string }).errorCode !== 'NOT_FOUND') throw err;
        }
      });
    },

    /** Accounts by id (redrive), deleted ones included. */
    async readAccountsById(input: { ids: string[] }): Promise<AccountPage> {
      return run('account read', async (conn) => {
        if (input.ids.length === 0) return { records: [], apiUsage: usageOf(conn) };
        const soql = `SELECT ${readFields.join(', ')} FROM Account WHERE Id IN (${input.ids.map(soqlString).join(', ')})`;
        const res = await conn.request<{ records: Record<string, unknown>[] }>(
          `/queryAll?q=${encodeURIComponent(soql)}`,
        );
        return { records: res.records.map((r) => toAccount(r, conn.userInfo?.id)), apiUsage: usageOf(conn) };
      });
    },

    /** Writes SAP customer numbers back to their Accounts: sObject Collections, 200 per call, allOrNone=false. */
    async writeSapCustomerNumbers(input: {
      links: { accountId: string; sapCustomerNumber: string }[];
    }): Promise<{ results: CollectionOutcome[]; apiUsage?: ApiUsage }> {
      return run('account link write', async (conn) => {
        const results: CollectionOutcome[] = [];
        for (let i = 0; i < input.links.length; i += MAX_COLLECTION) {
          const batch = input.links.slice(i, i + MAX_COLLECTION);
          const saved = await conn.sobject('Account').update(
            batch.map((l) => ({ Id: l.accountId, SAP_Customer_Number__c: l.sapCustomerNumber })),
            { allOrNone: false },
          );
          batch.forEach((l, j) => results.push(outcomeOf(l.accountId, saved[j], 'updated')));
        }
        return { results, apiUsage: usageOf(conn) };
      });
    },

    /**
     * SAP -> Salesforce: the Accounts of these SAP customers. Linked Accounts (SAP_Customer_Number__c)
     * are updated where a field differs, customers with no Account get one (upsert by Integration_Id__c
     * = sap:<number>, so a retry cannot create two), and a customer flagged for deletion in SAP deletes
     * its Account. sObject Collections, 200 per call, allOrNone=false; per-record results.
     */
    async applySapCustomers(input: {
      customers: SapCustomerFields[];
    }): Promise<{ results: CollectionOutcome[]; apiUsage?: ApiUsage }> {
      return run('account apply', async (conn) => {
        const results: CollectionOutcome[] = [];
        const numbers = [...new Set(input.customers.map((c) => c.KUNNR))];
        const existing = new Map<string, Record<string, unknown>>();
        for (let i = 0; i < numbers.length; i += MAX_COLLECTION) {
          const list = numbers
            .slice(i, i + MAX_COLLECTION)
            .map(soqlString)
            .join(', ');
          const res = await conn.query<Record<string, unknown>>(
            `SELECT Id, Name, Phone, BillingStreet, BillingCity, BillingPostalCode, BillingCountry, SAP_Customer_Number__c FROM Account WHERE SAP_Customer_Number__c IN (${list}) ORDER BY CreatedDate`,
            { autoFetch: true, maxFetch: 10_000 },
          );
          for (const r of res.records) {
            const n = String(r.SAP_Customer_Number__c);
            if (!existing.has(n)) existing.set(n, r);
          }
        }
        const updates: { kunnr: string; record: Record<string, unknown> }[] = [];
        const creates: { kunnr: string; record: Record<string, unknown> }[] = [];
        const deletes: { kunnr: string; id: string }[] = [];
        for (const c of input.customers) {
          const account = existing.get(c.KUNNR);
          if (c.LOEVM === 'X') {
            if (account) deletes.push({ kunnr: c.KUNNR, id: String(account.Id) });
            else results.push({ recordId: c.KUNNR, outcome: 'unchanged' });
            continue;
          }
          const fields = sapCustomerToAccountFields(c);
          if (account) {
            const changed = Object.fromEntries(
              Object.entries(fields).filter(([k, v]) => (account[k] ?? null) !== v),
            );
            if (Object.keys(changed).length === 0) results.push({ recordId: c.KUNNR, outcome: 'unchanged' });
            else updates.push({ kunnr: c.KUNNR, record: { Id: account.Id, ...changed } });
          } else {
            creates.push({
              kunnr: c.KUNNR,
              record: { ...fields, Integration_Id__c: sapOriginReference(c.KUNNR) },
            });
          }
        }
        for (let i = 0; i < updates.length; i += MAX_COLLECTION) {
          const batch = updates.slice(i, i + MAX_COLLECTION);
          const saved = await conn.sobject('Account').update(
            batch.map((u) => u.record as { Id: string }),
            { allOrNone: false },
          );
          batch.forEach((u, j) => results.push(outcomeOf(u.kunnr, saved[j], 'updated')));
        }
        for (let i = 0; i < creates.length; i += MAX_COLLECTION) {
          const batch = creates.slice(i, i + MAX_COLLECTION);
          const saved = await conn.sobject('Account').upsert(
            batch.map((c) => c.record),
            'Integration_Id__c',
            { allOrNone: false },
          );
          batch.forEach((c, j) => {
            const r = saved[j] as { created?: boolean } | undefined;
            results.push(outcomeOf(c.kunnr, saved[j], r?.created === false ? 'updated' : 'created'));
          });
        }
        for (let i = 0; i < deletes.length; i += MAX_COLLECTION) {
          const batch = deletes.slice(i, i + MAX_COLLECTION);
          const saved = await conn.sobject('Account').destroy(
            batch.map((d) => d.id),
            { allOrNone: false },
          );
          batch.forEach((d, j) => {
            const r = saved[j];
            const gone = !r?.success && errorCodeOf(r?.errors) === 'ENTITY_IS_DELETED';
            results.push(
              gone ? { recordId: d.kunnr, outcome: 'unchanged' } : outcomeOf(d.kunnr, r, 'deleted'),
            );
          });
        }
        return { results, apiUsage: usageOf(conn) };
      });
    },

    /** The org's API usage (`/limits`); used by a parked sync to see whether it may go on. */
    async apiUsage(): Promise<ApiUsage> {
      return run('limits read', async (conn) => {
        const res = await conn.request<{ DailyApiRequests: { Max: number; Remaining: number } }>('/limits');
        const { Max, Remaining } = res.DailyApiRequests;
        return { used: Max - Remaining, limit: Max };
      });
    },
  };
}

function errorCodeOf(errors: unknown): string | undefined {
  const first = (Array.isArray(errors) ? errors[0] : errors) as
    { statusCode?: string; errorCode?: string } | undefined;
  return first?.statusCode ?? first?.errorCode;
}

/**
 * One collection result as a record outcome. A business rejection is the record's own problem
 * (quarantine); a transient code fails the activity so Temporal retries the whole (idempotent) batch.
 */
function outcomeOf(recordId: string, saved: unknown, success: RecordOutcome): CollectionOutcome {
  const r = saved as { success?: boolean; errors?: unknown } | undefined;
  if (r?.success) return { recordId, outcome: success };
  const code = errorCodeOf(r?.errors) ?? 'UNKNOWN';
  const list = (Array.isArray(r?.errors) ? r.errors : []) as { message?: string; fields?: string[] }[];
  const message = list.map((e) => e.message).join('; ') || 'no result for this record';
  if (transientSaveCodes.has(code)) {
    throw ApplicationFailure.create({
      type: ErrorType.SystemUnavailable,
      message: `Salesforce could not save ${recordId} now: ${code}: ${message}`,
    });
  }
  return {
    recordId,
    outcome: 'quarantined',
    errorType: ErrorType.SalesforceRejected,
    reason: `${code}: ${message}`,
  };
}

export type SalesforceBatchActivities = ReturnType<typeof createSalesforceBatchActivities>;
