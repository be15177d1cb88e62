/**
 * Bulk API 2.0 query jobs, as Salesforce documents them (Bulk API 2.0 and Bulk API Developer Guide,
 * "Bulk API 2.0 Query", API 47.0+):
 *
 * - `POST /jobs/query` `{operation: query|queryAll, query, contentType: CSV, columnDelimiter, lineEnding}`
 *   -> 200 job info in state `UploadComplete`;
 * - `GET /jobs/query/{id}` -> job info; the state moves `UploadComplete` -> `InProgress` -> `JobComplete`
 *   (after a configurable processing time) and carries `numberRecordsProcessed`;
 * - `GET /jobs/query/{id}/results[?locator=&maxRecords=]` -> CSV, only in `JobComplete`; response headers
 *   `Sforce-Locator` (the next set's locator, or the string `null` after the last one) and
 *   `Sforce-NumberOfRecords`. A locator stays valid while the job exists; results must be read with the
 *   API version that created the job (409 otherwise);
 * - `PATCH /jobs/query/{id}` `{state: Aborted}`, `DELETE /jobs/query/{id}` -> 204, `GET /jobs/query` (list).
 *
 * SOQL: aggregate functions (COUNT()) and OFFSET are refused, as the guide lists; ORDER BY is accepted
 * (the guide warns it disables PK chunking). The result set is fixed when the job is created.
 */
import { SfError, notFound } from './errors';
import type { IdGenerator } from './ids';
import { checkQuery, parseSoql, runQuery } from './soql';
import type { CheckedQuery } from './soql';
import type { RecordStore } from './store';
import { formatDateTime } from './values';
import type { Value } from './values';

export type BulkJobState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed';

interface BulkJob {
  id: string;
  operation: 'query' | 'queryAll';
  object: string;
  createdById: string;
  createdAt: number;
  modifiedAt: number;
  state: BulkJobState;
  apiVersion: string;
  columnDelimiter: string;
  lineEnding: 'LF' | 'CRLF';
  header: string[];
  rows: string[];
}

export interface BulkRequest {
  method: string;
  version: string;
  userId: string;
  query: URLSearchParams;
  body(): unknown;
}

export type BulkResponse =
  { status: number; body?: unknown } | { status: number; csv: string; headers: Record<string, string> };

export interface BulkQueryOptions {
  store: RecordStore;
  ids: IdGenerator;
  now: () => number;
  /** Time a job spends before it is JobComplete (default 50 ms). */
  processingMs: number;
  /** Records per results set when the client gives no maxRecords. */
  defaultMaxRecords: number;
}

const DELIMITERS: Record<string, string> = {
  COMMA: ',',
  TAB: '\t',
  SEMICOLON: ';',
  PIPE: '|',
  CARET: '^',
  BACKQUOTE: '`',
};

function csvCell(v: Value | undefined, isDateTime: boolean): string {
  if (v === undefined || v === null) return '';
  const text = isDateTime && typeof v === 'number' ? formatDateTime(v).replace('+0000', 'Z') : String(v);
  return `"${text.replace(/"/g, '""')}"`;
}

export function createBulkQueryJobs(opts: BulkQueryOptions) {
  const jobs = new Map<string, BulkJob>();

  const stateOf = (job: BulkJob): BulkJobState => {
    if (job.state === 'UploadComplete' || job.state === 'InProgress') {
      const age = opts.now() - job.createdAt;
      if (age >= opts.processingMs) {
        job.state = 'JobComplete';
        job.modifiedAt = job.createdAt + opts.processingMs;
      } else if (age >= opts.processingMs / 2) job.state = 'InProgress';
    }
    return job.state;
  };

  const info = (job: BulkJob, detailed: boolean) => {
    const state = stateOf(job);
    return {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: job.createdById,
      createdDate: formatDateTime(job.createdAt),
      systemModstamp: formatDateTime(job.modifiedAt),
      state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(job.apiVersion),
      lineEnding: job.lineEnding,
      columnDelimiter: Object.entries(DELIMITERS).find(([, d]) => d === job.columnDelimiter)?.[0] ?? 'COMMA',
      ...(detailed
        ? {
            jobType: 'V2Query',
            numberRecordsProcessed: state === 'JobComplete' ? job.rows.length : 0,
            retries: 0,
            totalProcessingTime: state === 'JobComplete' ? opts.processingMs : 0,
          }
        : {}),
    };
  };

  const jobOr404 = (id: string): BulkJob => {
    const job = jobs.get(id);
    if (!job) throw notFound();
    return job;
  };

  const create = (req: BulkRequest): BulkResponse => {
    const raw = req.body();
    const b = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
    const operation = b.operation;
    if (operation !== 'query' && operation !== 'queryAll') {
      throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${String(operation)}`);
    }
    if (typeof b.query !== 'string' || b.query.trim() === '') {
      throw new SfError(400, 'INVALIDJOB', 'InvalidJob : Query is required');
    }
    if (b.contentType !== undefined && b.contentType !== 'CSV') {
      throw new SfError(
        400,
        'INVALIDJOB',
        `InvalidJob : Unsupported contentType: ${JSON.stringify(b.contentType)}`,
      );
    }
    const delimiterName = typeof b.columnDelimiter === 'string' ? b.columnDelimiter : 'COMMA';
    const columnDelimiter = DELIMITERS[delimiterName];
    if (!columnDelimiter)
      throw new SfError(400, 'INVALIDJOB', `InvalidJob : Invalid columnDelimiter: ${delimiterName}`);
    const lineEnding = b.lineEnding === 'CRLF' ? 'CRLF' : 'LF';
    const ast = parseSoql(b.query);
    if (ast.count) {
      throw new SfError(
        400,
        'INVALIDJOB',
        'InvalidJob : Aggregate queries are not supported by Bulk API 2.0',
      );
    }
    if (ast.offset !== undefined) {
      throw new SfError(400, 'INVALIDJOB', 'InvalidJob : OFFSET is not supported by Bulk API 2.0');
    }
    const q: CheckedQuery = checkQuery(b.query, ast);
    const result = runQuery(q, opts.store.list(q.object.name, operation === 'queryAll'));
    const header = q.fields.map((f) => f.name);
    const rows = result.map((r) =>
      q.fields.map((f) => csvCell(r[f.name], f.type === 'datetime')).join(columnDelimiter),
    );
    const at = opts.now();
    const job: BulkJob = {
      id: opts.ids.next('750'),
      operation,
      object: q.object.name,
      createdById: req.userId,
      createdAt: at,
      modifiedAt: at,
      state: 'UploadComplete',
      apiVersion: req.version,
      columnDelimiter,
      lineEnding,
      header,
      rows,
    };
    jobs.set(job.id, job);
    return { status: 200, body: info(job, false) };
  };

  const results = (req: BulkRequest, job: BulkJob): BulkResponse => {
    if (req.version !== job.apiVersion) {
      throw new SfError(
        409,
        'INVALIDJOBSTATE',
        `Results must be retrieved with the API version that created the job (${job.apiVersion})`,
      );
    }
    const state = stateOf(job);
    if (state !== 'JobComplete') {
      throw new SfError(400, 'INVALIDJOBSTATE', `Job is not complete (state ${state})`);
    }
    const locator = req.query.get('locator');
    let offset = 0;
    if (locator !== null && locator !== '') {
      // The locator is opaque to clients; here it is the base-36 offset of the set it names.
      offset = /^[0-9a-z]+$/.test(locator) ? parseInt(locator, 36) : NaN;
      if (!Number.isInteger(offset) || offset < 0 || offset > job.rows.length) {
        throw new SfError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator}`);
      }
    }
    const maxText = req.query.get('maxRecords');
    const max = maxText === null ? opts.defaultMaxRecords : Number(maxText);
    if (!Number.isInteger(max) || max < 1) {
      throw new SfError(400, 'INVALIDREQUEST', `maxRecords must be a positive integer, not ${maxText}`);
    }
    const slice = job.rows.slice(offset, offset + max);
    const next = offset + slice.length;
    const eol = job.lineEnding === 'CRLF' ? '\r\n' : '\n';
    const csv = [job.header.map((h) => `"${h}"`).join(job.columnDelimiter), ...slice].join(eol) + eol;
    return {
      status: 200,
      csv,
      headers: {
        'sforce-locator': next < job.rows.length ? next.toString(36) : 'null',
        'sforce-numberofrecords': String(slice.length),
      },
    };
  };

  return {
    /** Routes `rest` = the path after `jobs/query`. */
    handle(req: BulkRequest, rest: string[]): BulkResponse {
      const [id, sub] = rest;
      if (id === undefined) {
        if (req.method === 'POST') return create(req);
        if (req.method === 'GET') {
          return {
            status: 200,
            body: {
              done: true,
              records: [...jobs.values()].map((j) => info(j, false)),
              nextRecordsUrl: null,
            },
          };
        }
        throw new SfError(
          405,
          'METHOD_NOT_ALLOWED',
          `HTTP Method '${req.method}' not allowed. Allowed are GET,POST`,
        );
      }
      const job = jobOr404(id);
      if (sub === 'results' && rest.length === 2) {
        if (req.method !== 'GET')
          throw new SfError(
            405,
            'METHOD_NOT_ALLOWED',
            `HTTP Method '${req.method}' not allowed. Allowed are GET`,
          );
        return results(req, job);
      }
      if (sub !== undefined) throw notFound();
      if (req.method === 'GET') return { status: 200, body: info(job, true) };
      if (req.method === 'DELETE') {
        jobs.delete(id);
        return { status: 204 };
      }
      if (req.method === 'PATCH') {
        const b = req.body() as { state?: unknown } | undefined;
        if (b?.state !== 'Aborted')
          throw new SfError(400, 'INVALIDJOBSTATE', 'Only state Aborted can be set');
        if (stateOf(job) === 'JobComplete')
          throw new SfError(400, 'INVALIDJOBSTATE', 'Job is already complete and cannot be aborted');
        job.state = 'Aborted';
        job.modifiedAt = opts.now();
        return { status: 200, body: info(job, false) };
      }
      throw new SfError(
        405,
        'METHOD_NOT_ALLOWED',
        `HTTP Method '${req.method}' not allowed. Allowed are GET,PATCH,DELETE`,
      );
    },
    reset(): void {
      jobs.clear();
    },
    count: () => jobs.size,
  };
}

/**
 * The org's API request allowance over a rolling window (24 h in Salesforce). Calls are counted in
 * per-second buckets that age out of the window, so usage falls as the window moves. Tests can shorten
 * the window or move it forward instead of waiting a day.
 */
export class ApiUsageWindow {
  private buckets: { at: number; count: number }[] = [];

  constructor(
    private readonly now: () => number,
    public limit: number,
    public windowMs = 24 * 60 * 60 * 1000,
  ) {}

  private prune(): void {
    const from = this.now() - this.windowMs;
    while (this.buckets.length > 0 && this.buckets[0]!.at <= from) this.buckets.shift();
  }

  used(): number {
    this.prune();
    return this.buckets.reduce((s, b) => s + b.count, 0);
  }

  exhausted(): boolean {
    return this.used() >= this.limit;
  }

  count(): void {
    const at = Math.floor(this.now() / 1000) * 1000;
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.at === at) last.count += 1;
    else this.buckets.push({ at, count: 1 });
  }

  /** Sets usage as if `used` calls had just been made. */
  set(used: number): void {
    this.buckets = used > 0 ? [{ at: this.now(), count: used }] : [];
  }

  /** Ages every counted call by `ms`, as if the window had moved that far. */
  advance(ms: number): void {
    for (const b of this.buckets) b.at -= ms;
    this.prune();
  }
}
