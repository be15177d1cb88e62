import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { applyFaults, createSimulatorApp, listen, registerAdminRoutes } from '../common/server';
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';
import type { FaultRule } from '../common/faults';
import { OutboundEvents } from '../common/outbound';
import type { OutboundTarget } from '../common/outbound';
import {
  SfError,
  notFound,
  requestLimitExceeded,
  serverUnavailable,
  sessionInvalid,
  unableToLockRow,
  unknownException,
} from './errors';
import { IdGenerator, KEY_PREFIXES, normalizeId, to18 } from './ids';
import { SCHEMA, describeGlobalEntry, describeObject, findObject } from './schema';
import type { ObjectDef } from './schema';
import { checkQuery, parseSoql, runQuery } from './soql';
import { RecordStore } from './store';
import { ApiUsageWindow, createBulkQueryJobs } from './bulk';
import type { Change, DmlContext, Row } from './store';
import { hasConflictingFileSuffix } from './url-suffix';
import { renderValue } from './values';

export { checksum, normalizeId, to18 } from './ids';
export { SfError } from './errors';

export const SALESFORCE_FAULT_KINDS = [
  'server-unavailable',
  'unable-to-lock-row',
  'request-limit-exceeded',
  'session-expired',
  'server-error',
  'timeout',
] as const;

export const MIN_API_VERSION = 42;
export const MAX_API_VERSION = 62;

export interface SalesforceSimulatorOptions {
  /** Connected app consumer key / secret. */
  clientId?: string;
  clientSecret?: string;
  /** The integration user for the password grant (and the run-as user of client_credentials). */
  username?: string;
  password?: string;
  /** 15- or 18-char ids of the org, the integration user and the "UI" user that makes admin-side changes. */
  orgId?: string;
  userId?: string;
  uiUserId?: string;
  /** Lifetime of an access token (default 2 h). */
  sessionTtlMs?: number;
  /** Daily API request allowance; calls beyond it get 403 REQUEST_LIMIT_EXCEEDED (default 15000). */
  dailyApiLimit?: number;
  /** The rolling window the daily allowance is counted over (default 24 h; tests shorten it). */
  apiUsageWindowMs?: number;
  /** How long a Bulk API 2.0 query job takes to reach JobComplete (default 50 ms). */
  bulkQueryProcessingMs?: number;
  /** Records per Bulk API 2.0 results set when the client sends no maxRecords (default 50000). */
  bulkQueryMaxRecords?: number;
  /** Records per query batch unless the client asks for a batch size (default 2000). */
  queryBatchSize?: number;
  /** Overrides the `instance_url` handed out by the token endpoint (default: the simulator's own URL). */
  instanceUrl?: string;
  /** Where change events go (Standard Webhooks signed); can be changed at run time. */
  events?: OutboundTarget;
  /** Clock, for tests that need fixed timestamps. */
  now?: () => number;
}

export interface TokenIssue {
  grantType: string;
  accessToken: string;
  refreshToken?: string;
  at: number;
}

/** A Change Data Capture event as the simulator delivers it (the `data` of a `salesforce.change` webhook). */
export interface ChangeEvent {
  schema: string;
  channel: string;
  payload: {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: 'CREATE' | 'UPDATE' | 'DELETE';
      changeOrigin: string;
      transactionKey: string;
      sequenceNumber: number;
      commitTimestamp: number;
      commitNumber: number;
      commitUser: string;
      changedFields: string[];
      nulledFields: string[];
      diffFields: string[];
    };
    [field: string]: unknown;
  };
  event: { replayId: number };
}

export interface SalesforceSimulator {
  readonly core: SimulatorCore;
  readonly options: Readonly<Required<Omit<SalesforceSimulatorOptions, 'events' | 'instanceUrl' | 'now'>>>;
  /** The URL once started. */
  readonly url: string | undefined;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  stop(): Promise<void>;
  /** Forgets records, query cursors, API usage, fault rules, the request log and event history (sessions survive). */
  reset(): void;
  /** Records of one type as the REST API renders them (deleted ones only with includeDeleted). */
  records(type: string, opts?: { includeDeleted?: boolean }): Record<string, unknown>[];
  record(type: string, id: string): Record<string, unknown> | undefined;
  /** Inserts records directly (no API call counted, no change events); returns their ids. */
  seed(type: string, records: Record<string, unknown> | Record<string, unknown>[]): string[];
  /** A change made "by a user in the UI": updates the record and emits an event without API changeOrigin. */
  uiUpdate(type: string, id: string, fields: Record<string, unknown>): void;
  uiDelete(type: string, id: string): void;
  /** Invalidates every access token now; with revokeRefreshTokens the refresh tokens die too. */
  expireSessions(opts?: { revokeRefreshTokens?: boolean }): number;
  revokeRefreshTokens(): void;
  tokensIssued(): TokenIssue[];
  apiUsage(): { used: number; limit: number; windowMs: number };
  setApiUsage(used: number, limit?: number): void;
  /** Changes the length of the rolling window usage is counted over. */
  setApiUsageWindow(windowMs: number): void;
  /** Moves the rolling window forward: calls older than the window no longer count. */
  advanceApiUsageWindow(ms: number): void;
  configureEvents(target: OutboundTarget | undefined): void;
  readonly events: OutboundEvents;
  /** Change events produced so far (whether or not a target was configured). */
  changeEvents(): ChangeEvent[];
  drainEvents(): Promise<void>;
}

interface Session {
  userId: string;
  expiresAt: number;
}

interface Cursor {
  rows: Record<string, unknown>[];
  batchSize: number;
  totalSize: number;
}

const JSON_TYPE = 'application/json;charset=UTF-8';
const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [] as string[],
};
const MAX_COLLECTION = 200;

function releaseLabel(major: number): string {
  const season = ['Spring', 'Summer', 'Winter'][(major - 42) % 3]!;
  const year = 18 + Math.floor((major - 42) / 3) + (season === 'Winter' ? 1 : 0);
  return `${season} '${year}`;
}

function randomToken(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += alphabet.charAt(b % alphabet.length);
  return s;
}

function parseJsonBody(raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw : raw === undefined || raw === null ? '' : JSON.stringify(raw);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SfError(400, 'JSON_PARSER_ERROR', `${(err as Error).message} at [line:1, column:1]`);
  }
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SfError(
      400,
      'JSON_PARSER_ERROR',
      `Cannot deserialize instance of sObject from ${Array.isArray(body) ? 'START_ARRAY' : 'VALUE_STRING'} token`,
    );
  }
  return body as Record<string, unknown>;
}

export function createSalesforceSimulator(input: SalesforceSimulatorOptions = {}): SalesforceSimulator {
  const options = {
    clientId: input.clientId ?? 'dev-client',
    clientSecret: input.clientSecret ?? 'dev-secret',
    username: input.username ?? 'integration@example.com',
    password: input.password ?? 'dev-password',
    orgId: to18(input.orgId ?? '00DDn0000001aBc'),
    userId: to18(input.userId ?? '005Dn0000002XyZ'),
    uiUserId: to18(input.uiUserId ?? '005Dn0000003UiU'),
    sessionTtlMs: input.sessionTtlMs ?? 2 * 60 * 60 * 1000,
    dailyApiLimit: input.dailyApiLimit ?? 15000,
    queryBatchSize: input.queryBatchSize ?? 2000,
    apiUsageWindowMs: input.apiUsageWindowMs ?? 24 * 60 * 60 * 1000,
    bulkQueryProcessingMs: input.bulkQueryProcessingMs ?? 50,
    bulkQueryMaxRecords: input.bulkQueryMaxRecords ?? 50000,
  };
  const now = input.now ?? (() => Date.now());
  const core = createSimulatorApp('salesforce', SALESFORCE_FAULT_KINDS);
  const ids = new IdGenerator();
  const store = new RecordStore(ids);
  const events = new OutboundEvents(input.events);
  const sessions = new Map<string, Session>();
  const refreshTokens = new Map<string, { userId: string; revoked: boolean }>();
  const issued: TokenIssue[] = [];
  const cursors = new Map<string, Cursor>();
  const changeLog: ChangeEvent[] = [];
  const usage = new ApiUsageWindow(now, options.dailyApiLimit, options.apiUsageWindowMs);
  const bulk = createBulkQueryJobs({
    store,
    ids,
    now,
    processingMs: options.bulkQueryProcessingMs,
    defaultMaxRecords: options.bulkQueryMaxRecords,
  });
  let replayId = 0;
  let commitNumber = 10716283339728;
  let running: RunningSimulator | undefined;

  const baseUrl = (req?: FastifyRequest) =>
    input.instanceUrl ?? running?.url ?? `http://${req?.headers.host ?? '127.0.0.1:4010'}`;

  // ------------------------------------------------------------------ change events

  const schemaIdFor = (entity: string) =>
    createHash('sha256').update(`${entity}ChangeEvent`).digest('base64url').slice(0, 22);

  /** Publishes committed changes as CDC events, one transaction key per API transaction. */
  const publish = (changes: Change[], changeOrigin: string) => {
    if (changes.length === 0) return;
    const transactionKey = randomUUID();
    commitNumber += 1;
    changes.forEach((c, i) => {
      replayId += 1;
      const def = SCHEMA.get(c.entityName)!;
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.values)) {
        const f = def.byLowerName.get(k.toLowerCase())!;
        // CDC JSON carries datetimes as ISO-8601 with Z, not the REST API's +0000.
        body[k] = f.type === 'datetime' && typeof v === 'number' ? new Date(v).toISOString() : v;
      }
      const event: ChangeEvent = {
        schema: schemaIdFor(c.entityName),
        channel: `/data/${c.entityName}ChangeEvent`,
        payload: {
          ChangeEventHeader: {
            entityName: c.entityName,
            recordIds: [c.id],
            changeType: c.changeType,
            changeOrigin,
            transactionKey,
            sequenceNumber: i + 1,
            commitTimestamp: c.at,
            commitNumber,
            commitUser: c.userId,
            changedFields: c.changedFields,
            nulledFields: [],
            diffFields: [],
          },
          ...body,
        },
        event: { replayId },
      };
      changeLog.push(event);
      events.send('salesforce.change', event, `sfcdc_${options.orgId}_${replayId}`);
    });
  };

  const apiOrigin = (req: FastifyRequest, version: string) => {
    const callOptions = req.headers['sforce-call-options'];
    const client = /(?:^|,)\s*client=([^,]+)/.exec(
      Array.isArray(callOptions) ? callOptions.join(',') : (callOptions ?? ''),
    );
    return `com/salesforce/api/rest/${version}${client ? `;client=${client[1]!.trim()}` : ''}`;
  };

  // ------------------------------------------------------------------ rendering

  const render = (def: ObjectDef, row: Row, version: string, fields?: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      attributes: {
        type: def.name,
        url: `/services/data/v${version}/sobjects/${def.name}/${String(row.Id)}`,
      },
    };
    for (const f of def.fields) {
      if (fields && !fields.includes(f.name)) continue;
      out[f.name] = renderValue(f, row[f.name]);
    }
    return out;
  };

  const limitHeader = () => `api-usage=${usage.used()}/${usage.limit}`;

  const send = (reply: FastifyReply, status: number, body?: unknown) => {
    reply.code(status).header('sforce-limit-info', limitHeader());
    if (body === undefined) return reply.send();
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(body));
  };

  const sendError = (reply: FastifyReply, err: SfError) => {
    if (err.status === 401) reply.header('www-authenticate', 'Token');
    return send(reply, err.status, err.toRestBody());
  };

  const faultError = (rule: FaultRule, recordId: string): SfError => {
    switch (rule.kind) {
      case 'server-unavailable':
        return serverUnavailable();
      case 'unable-to-lock-row':
        return unableToLockRow(recordId);
      case 'request-limit-exceeded':
        return requestLimitExceeded();
      case 'session-expired':
        return sessionInvalid();
      default:
        return unknownException();
    }
  };

  // ------------------------------------------------------------------ OAuth2

  const oauthError = (reply: FastifyReply, status: number, error: string, description: string) =>
    reply
      .code(status)
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify({ error, error_description: description }));

  const issueToken = (req: FastifyRequest, grantType: string, userId: string, withRefresh: boolean) => {
    const url = baseUrl(req);
    const accessToken = `${options.orgId.slice(0, 15)}!AQ8AQ${randomToken(96)}`;
    sessions.set(accessToken, { userId, expiresAt: now() + options.sessionTtlMs });
    let refreshToken: string | undefined;
    if (withRefresh) {
      refreshToken = `5Aep861${randomToken(80)}`;
      refreshTokens.set(refreshToken, { userId, revoked: false });
    }
    issued.push({ grantType, accessToken, refreshToken, at: now() });
    const id = `${url}/id/${options.orgId}/${userId}`;
    const issuedAt = String(now());
    const signature = createHmac('sha256', options.clientSecret)
      .update(id + issuedAt)
      .digest('base64');
    return {
      access_token: accessToken,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      signature,
      scope: withRefresh ? 'refresh_token api' : 'api',
      instance_url: url,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
  };

  const tokenHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const decision = await applyFaults(core, req, reply, 'token');
    if (decision === 'handled') return reply;
    if (decision.rule) {
      switch (decision.rule.kind) {
        case 'server-unavailable':
          return oauthError(reply, 503, 'unknown_error', 'retry your request');
        case 'request-limit-exceeded':
          return oauthError(reply, 400, 'rate_limit_exceeded', 'too many requests');
        case 'session-expired':
          return oauthError(reply, 400, 'invalid_grant', 'expired access/refresh token');
        case 'unable-to-lock-row':
        case 'server-error':
        default:
          return oauthError(reply, 500, 'unknown_error', 'retry your request');
      }
    }
    const params = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    let clientId = params.get('client_id') ?? undefined;
    let clientSecret = params.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId ??= id !== undefined ? decodeURIComponent(id) : undefined;
      clientSecret ??= secret !== undefined ? decodeURIComponent(secret) : undefined;
    }
    const grantType = params.get('grant_type');
    if (!grantType) return oauthError(reply, 400, 'invalid_request', 'grant type is missing');
    if (!['password', 'client_credentials', 'refresh_token'].includes(grantType)) {
      return oauthError(reply, 400, 'unsupported_grant_type', 'grant type not supported');
    }
    if (clientId !== options.clientId)
      return oauthError(reply, 400, 'invalid_client_id', 'client identifier invalid');
    // The refresh_token grant may omit the secret (public clients); when sent, it must be right.
    if (
      (grantType !== 'refresh_token' || clientSecret !== undefined) &&
      clientSecret !== options.clientSecret
    ) {
      return oauthError(reply, 400, 'invalid_client', 'invalid client credentials');
    }
    if (grantType === 'password') {
      if (params.get('username') !== options.username || params.get('password') !== options.password) {
        return oauthError(reply, 400, 'invalid_grant', 'authentication failure');
      }
      return reply
        .header('content-type', JSON_TYPE)
        .send(JSON.stringify(issueToken(req, grantType, options.userId, true)));
    }
    if (grantType === 'client_credentials') {
      return reply
        .header('content-type', JSON_TYPE)
        .send(JSON.stringify(issueToken(req, grantType, options.userId, false)));
    }
    const rt = refreshTokens.get(params.get('refresh_token') ?? '');
    if (!rt || rt.revoked) return oauthError(reply, 400, 'invalid_grant', 'expired access/refresh token');
    return reply
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify(issueToken(req, grantType, rt.userId, false)));
  };

  const authenticate = (req: FastifyRequest): Session => {
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const session = m ? sessions.get(m[1]!.trim()) : undefined;
    if (!session || session.expiresAt <= now()) {
      if (m) sessions.delete(m[1]!.trim());
      throw sessionInvalid();
    }
    return session;
  };

  // ------------------------------------------------------------------ REST handlers

  interface Ctx {
    req: FastifyRequest;
    reply: FastifyReply;
    version: string;
    session: Session;
    query: URLSearchParams;
  }

  const dml = (ctx: Ctx): DmlContext => ({ userId: ctx.session.userId, now: now(), changes: [] });

  const objectOr404 = (name: string): ObjectDef => {
    const def = findObject(name);
    if (!def) throw notFound();
    return def;
  };

  const queryStart = (ctx: Ctx, scanAll: boolean) => {
    const soql = ctx.query.get('q');
    if (soql === null || soql.trim() === '') {
      throw new SfError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    }
    const q = checkQuery(soql, parseSoql(soql));
    const rows = store.list(q.object.name, scanAll);
    const result = runQuery(q, rows);
    if (q.count) return { totalSize: result.length, done: true, records: [] };
    const rendered = result.map((r) =>
      render(
        q.object,
        r,
        ctx.version,
        q.fields.map((f) => f.name),
      ),
    );
    // Keep SELECT order in the JSON, as SF does.
    const ordered = rendered.map((r) => {
      const o: Record<string, unknown> = { attributes: r.attributes };
      for (const f of q.fields) o[f.name] = r[f.name];
      return o;
    });
    const header = ctx.req.headers['sforce-query-options'];
    const m = /batchSize=(\d+)/i.exec(Array.isArray(header) ? header.join(',') : (header ?? ''));
    // SF treats the requested batch size as a hint between 200 and 2000.
    const batchSize = m ? Math.min(2000, Math.max(200, Number(m[1]))) : options.queryBatchSize;
    return page({ rows: ordered, batchSize, totalSize: ordered.length }, 0, ctx.version);
  };

  const page = (cursor: Cursor, offset: number, version: string, locator?: string) => {
    const records = cursor.rows.slice(offset, offset + cursor.batchSize);
    const nextOffset = offset + records.length;
    const done = nextOffset >= cursor.rows.length;
    let nextRecordsUrl: string | undefined;
    if (!done) {
      const id = locator ?? ids.next(KEY_PREFIXES.QueryLocator);
      cursors.set(id, cursor);
      // Bound memory like SF bounds open cursors per user.
      while (cursors.size > 100) cursors.delete(cursors.keys().next().value!);
      nextRecordsUrl = `/services/data/v${version}/query/${id}-${nextOffset}`;
    } else if (locator) {
      cursors.delete(locator);
    }
    return { totalSize: cursor.totalSize, done, ...(nextRecordsUrl ? { nextRecordsUrl } : {}), records };
  };

  const queryMore = (ctx: Ctx, locatorWithOffset: string) => {
    const m = /^([0-9A-Za-z]+)-(\d+)$/.exec(locatorWithOffset);
    const cursor = m ? cursors.get(m[1]!) : undefined;
    if (!m || !cursor) throw new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    return page(cursor, Number(m[2]), ctx.version, m[1]);
  };

  const retrieveFields = (def: ObjectDef, list: string | null): string[] | undefined => {
    if (list === null) return undefined;
    return list
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((name) => {
        const f = def.byLowerName.get(name.toLowerCase());
        if (!f) {
          throw new SfError(
            400,
            'INVALID_FIELD',
            `No such column '${name}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
          );
        }
        return f.name;
      });
  };

  const retrieve = (ctx: Ctx, def: ObjectDef, idText: string) => {
    const id = normalizeId(idText);
    if (!id) {
      throw new SfError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${idText}`,
      );
    }
    const row = store.get(def.name, id);
    if (!row || row.IsDeleted === true) throw notFound();
    return render(def, row, ctx.version, retrieveFields(def, ctx.query.get('fields')));
  };

  const saveResult = (id: string | undefined, err?: SfError, extra: Record<string, unknown> = {}) =>
    err
      ? { ...(id ? { id } : {}), success: false, errors: [err.toCollectionError()] }
      : { id, success: true, errors: [], ...extra };

  /**
   * Runs collection items one by one; with allOrNone a single failure rolls the whole request back and the
   * items that had succeeded report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  const runCollection = <T>(
    ctx: Ctx,
    items: T[],
    allOrNone: boolean,
    op: (item: T, d: DmlContext) => { id?: string; extra?: Record<string, unknown> },
    idOf: (item: T) => string | undefined,
  ) => {
    if (items.length > MAX_COLLECTION) {
      throw new SfError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`,
      );
    }
    const before = allOrNone ? store.snapshot() : undefined;
    const committed: Change[] = [];
    const outcomes: { id?: string; err?: SfError; extra?: Record<string, unknown> }[] = [];
    for (const item of items) {
      const d = dml(ctx);
      const snap = allOrNone ? undefined : store.snapshot();
      try {
        const r = op(item, d);
        outcomes.push({ id: r.id, extra: r.extra });
        committed.push(...d.changes);
      } catch (err) {
        if (!(err instanceof SfError)) throw err;
        if (snap) store.restore(snap); // a failed item leaves nothing behind
        outcomes.push({ id: idOf(item), err });
      }
    }
    const failed = outcomes.some((o) => o.err);
    if (allOrNone && failed) {
      store.restore(before!);
      return outcomes.map((o) =>
        o.err
          ? saveResult(o.id, o.err)
          : {
              ...(idOf(items[outcomes.indexOf(o)]!) ? { id: idOf(items[outcomes.indexOf(o)]!) } : {}),
              success: false,
              errors: [ROLLED_BACK],
            },
      );
    }
    publish(committed, apiOrigin(ctx.req, ctx.version));
    return outcomes.map((o) => saveResult(o.id, o.err, o.extra));
  };

  const collectionRecords = (body: unknown): { allOrNone: boolean; records: Record<string, unknown>[] } => {
    const b = asObject(body);
    if (!Array.isArray(b.records))
      throw new SfError(400, 'JSON_PARSER_ERROR', 'Missing required field: records');
    return { allOrNone: b.allOrNone === true, records: b.records as Record<string, unknown>[] };
  };

  const typeOfItem = (item: Record<string, unknown>, fallback?: ObjectDef): ObjectDef => {
    const t = (item.attributes as { type?: unknown } | undefined)?.type;
    if (typeof t !== 'string') {
      if (fallback) return fallback;
      throw new SfError(400, 'INVALID_TYPE', 'The sObject type is not specified in the record attributes');
    }
    const def = findObject(t);
    if (!def) throw new SfError(400, 'INVALID_TYPE', `sObject type '${t}' is not supported.`);
    return def;
  };

  const withoutKeys = (item: Record<string, unknown>, ...keys: string[]) => {
    const lower = keys.map((k) => k.toLowerCase());
    return Object.fromEntries(Object.entries(item).filter(([k]) => !lower.includes(k.toLowerCase())));
  };

  const collections = (ctx: Ctx, rest: string[], body: unknown) => {
    const method = ctx.req.method;
    if (rest.length === 0) {
      if (method === 'POST') {
        const { allOrNone, records } = collectionRecords(body);
        return runCollection(
          ctx,
          records,
          allOrNone,
          (item, d) => {
            const def = typeOfItem(item);
            if (Object.keys(item).some((k) => k.toLowerCase() === 'id')) {
              throw new SfError(
                400,
                'INVALID_FIELD_FOR_INSERT_UPDATE',
                'cannot specify Id in an insert call',
                ['Id'],
              );
            }
            return { id: store.insert(def, withoutKeys(item, 'attributes'), d) };
          },
          () => undefined,
        );
      }
      if (method === 'PATCH') {
        const { allOrNone, records } = collectionRecords(body);
        const idOf = (item: Record<string, unknown>) => {
          const raw = item.id ?? item.Id;
          return typeof raw === 'string' ? (normalizeId(raw) ?? raw) : undefined;
        };
        return runCollection(
          ctx,
          records,
          allOrNone,
          (item, d) => {
            const id = idOf(item);
            if (!id) throw new SfError(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
            const def = typeOfItem(item);
            store.update(def, id, withoutKeys(item, 'attributes', 'id'), d);
            return { id };
          },
          idOf,
        );
      }
      if (method === 'DELETE') {
        const list = (ctx.query.get('ids') ?? '').split(',').filter((s) => s !== '');
        return runCollection(
          ctx,
          list,
          ctx.query.get('allOrNone') === 'true',
          (raw, d) => {
            const found = store.find(raw);
            if (!found) throw new SfError(404, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
            return { id: store.delete(found.def, String(found.row.Id), d) };
          },
          (raw) => normalizeId(raw) ?? raw,
        );
      }
    }
    if (rest.length === 1) {
      const def = objectOr404(rest[0]!);
      let idList: string[];
      let fieldList: string | null;
      if (method === 'POST') {
        const b = asObject(body);
        idList = Array.isArray(b.ids) ? (b.ids as string[]) : [];
        fieldList = Array.isArray(b.fields) ? (b.fields as string[]).join(',') : null;
      } else if (method === 'GET') {
        idList = (ctx.query.get('ids') ?? '').split(',').filter((s) => s !== '');
        fieldList = ctx.query.get('fields');
      } else {
        throw methodNotAllowed(method, 'GET,POST');
      }
      if (fieldList === null) throw new SfError(400, 'MALFORMED_QUERY', 'The fields parameter is required');
      if (idList.length > 2000)
        throw new SfError(
          400,
          'EXCEEDED_ID_LIMIT',
          'record limit reached. cannot retrieve more than 2000 records',
        );
      const fields = retrieveFields(def, fieldList);
      return idList.map((raw) => {
        const id = normalizeId(raw);
        const row = id ? store.get(def.name, id) : undefined;
        return row && row.IsDeleted !== true ? render(def, row, ctx.version, fields) : null;
      });
    }
    if (rest.length === 2 && method === 'PATCH') {
      const def = objectOr404(rest[0]!);
      const field = def.byLowerName.get(rest[1]!.toLowerCase());
      if (!field || !(field.externalId || field.name === 'Id')) {
        throw new SfError(
          404,
          'NOT_FOUND',
          `Provided external ID field does not exist or is not accessible: ${rest[1]!}`,
        );
      }
      const { allOrNone, records } = collectionRecords(body);
      return runCollection(
        ctx,
        records,
        allOrNone,
        (item, d) => {
          const itemDef = typeOfItem(item, def);
          const key =
            item[Object.keys(item).find((k) => k.toLowerCase() === field.name.toLowerCase()) ?? field.name];
          if (key === undefined || key === null || key === '') {
            throw new SfError(400, 'MISSING_ARGUMENT', `${field.name} not specified`, [field.name]);
          }
          const rec = withoutKeys(item, 'attributes', field.name);
          const r = store.upsert(itemDef, field, typeof key === 'string' ? key : JSON.stringify(key), rec, d);
          if ('multiple' in r) {
            throw new SfError(
              300,
              'DUPLICATE_EXTERNAL_ID',
              `${field.name}: more than one record found for external id field: [${r.multiple.join(', ')}]`,
              [field.name],
            );
          }
          return { id: r.id, extra: { created: r.created } };
        },
        () => undefined,
      );
    }
    throw notFound();
  };

  const methodNotAllowed = (method: string, allowed: string) =>
    new SfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`);

  /** Works out the operation name first, so faults can match it before anything else happens. */
  const classify = (method: string, rest: string[]): string => {
    const [head, a, b, c] = rest;
    if (head === 'sobjects') {
      if (a === undefined) return 'describe';
      if (b === 'describe' && c === undefined) return 'describe';
      if (b === undefined) return method === 'POST' ? 'create' : 'describe';
      if (c === undefined) {
        if (method === 'PATCH') return 'update';
        if (method === 'DELETE') return 'delete';
        return 'retrieve';
      }
      return method === 'PATCH' ? 'upsert' : 'retrieve';
    }
    if (head === 'query' || head === 'queryAll') return a === undefined ? 'query' : 'queryMore';
    if (head === 'composite' && a === 'sobjects') return 'collections';
    if (head === 'limits') return 'limits';
    if (head === 'jobs' && a === 'query') return 'bulkQuery';
    return 'resources';
  };

  const dispatch = (
    ctx: Ctx,
    rest: string[],
    op: string,
  ):
    { status: number; body?: unknown } | { status: number; csv: string; headers: Record<string, string> } => {
    const method = ctx.req.method;
    const [head, a, b, c] = rest;
    const body = (): unknown => parseJsonBody(ctx.req.body);
    if (rest.length === 0) {
      const base = `/services/data/v${ctx.version}`;
      return {
        status: 200,
        body: {
          sobjects: `${base}/sobjects`,
          query: `${base}/query`,
          queryAll: `${base}/queryAll`,
          composite: `${base}/composite`,
          limits: `${base}/limits`,
          identity: `${baseUrl(ctx.req)}/id/${options.orgId}/${ctx.session.userId}`,
        },
      };
    }
    if (op === 'limits') {
      return {
        status: 200,
        body: { DailyApiRequests: { Max: usage.limit, Remaining: Math.max(0, usage.limit - usage.used()) } },
      };
    }
    if (head === 'sobjects') {
      if (a === undefined) {
        if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
        return {
          status: 200,
          body: {
            encoding: 'UTF-8',
            maxBatchSize: 200,
            sobjects: [...SCHEMA.values()].map((d) => describeGlobalEntry(d, ctx.version)),
          },
        };
      }
      const def = objectOr404(a);
      if (b === undefined) {
        if (method === 'POST') {
          const d = dml(ctx);
          const id = store.insert(def, asObject(body()), d);
          publish(d.changes, apiOrigin(ctx.req, ctx.version));
          return { status: 201, body: { id, success: true, errors: [] } };
        }
        if (method === 'GET') {
          return {
            status: 200,
            body: { objectDescribe: describeGlobalEntry(def, ctx.version), recentItems: [] },
          };
        }
        throw methodNotAllowed(method, 'GET,HEAD,POST');
      }
      if (b === 'describe' && c === undefined) {
        if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
        return { status: 200, body: describeObject(def, ctx.version) };
      }
      if (c === undefined) {
        if (method === 'GET') return { status: 200, body: retrieve(ctx, def, b) };
        if (method === 'PATCH') {
          const d = dml(ctx);
          const fields = asObject(body());
          store.update(def, b, fields, d);
          publish(d.changes, apiOrigin(ctx.req, ctx.version));
          return { status: 204 };
        }
        if (method === 'DELETE') {
          const d = dml(ctx);
          store.delete(def, b, d);
          publish(d.changes, apiOrigin(ctx.req, ctx.version));
          return { status: 204 };
        }
        throw methodNotAllowed(method, 'GET,PATCH,DELETE,HEAD');
      }
      if (rest.length !== 4 || hasConflictingFileSuffix(c)) throw notFound();
      const field = def.byLowerName.get(b.toLowerCase());
      if (!field || !(field.externalId || field.name === 'Id')) {
        throw new SfError(
          404,
          'NOT_FOUND',
          `Provided external ID field does not exist or is not accessible: ${b}`,
        );
      }
      if (method === 'GET') {
        const matches = field.name === 'Id' ? [store.live(def, c)] : store.findBy(def, field, c);
        if (matches.length === 0) throw notFound();
        if (matches.length > 1) {
          return {
            status: 300,
            body: matches.map((r) => `/services/data/v${ctx.version}/sobjects/${def.name}/${String(r.Id)}`),
          };
        }
        return {
          status: 200,
          body: render(def, matches[0]!, ctx.version, retrieveFields(def, ctx.query.get('fields'))),
        };
      }
      if (method !== 'PATCH') throw methodNotAllowed(method, 'GET,PATCH,HEAD');
      const d = dml(ctx);
      const r = store.upsert(def, field, c, asObject(body()), d);
      if ('multiple' in r) {
        return {
          status: 300,
          body: r.multiple.map((id) => `/services/data/v${ctx.version}/sobjects/${def.name}/${id}`),
        };
      }
      publish(d.changes, apiOrigin(ctx.req, ctx.version));
      if (r.created) return { status: 201, body: { id: r.id, success: true, errors: [], created: true } };
      // API 46.0+ answers 200 with created:false; older versions answer 204.
      if (Number(ctx.version) >= 46)
        return { status: 200, body: { id: r.id, success: true, errors: [], created: false } };
      return { status: 204 };
    }
    if (head === 'query' || head === 'queryAll') {
      if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
      if (a === undefined) return { status: 200, body: queryStart(ctx, head === 'queryAll') };
      if (b !== undefined) throw notFound();
      return { status: 200, body: queryMore(ctx, a) };
    }
    if (head === 'jobs' && a === 'query') {
      return bulk.handle(
        { method, version: ctx.version, userId: ctx.session.userId, query: ctx.query, body },
        rest.slice(2),
      );
    }
    if (head === 'composite' && a === 'sobjects') {
      return {
        status: 200,
        body: collections(ctx, rest.slice(2), method === 'GET' || method === 'DELETE' ? undefined : body()),
      };
    }
    throw notFound();
  };

  const dataHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const [rawPath, rawQuery = ''] = req.url.split('?') as [string, string?];
    const query = new URLSearchParams(rawQuery);
    // Split before decoding so an encoded "/" inside an external id stays one segment.
    const raw = rawPath.replace(/^\/services\/data\/?/, '').split('/');
    let segments: string[];
    try {
      segments = raw.map((s) => decodeURIComponent(s));
    } catch {
      return sendError(reply, notFound());
    }
    if (segments[segments.length - 1] === '' && segments.length > 0) segments.pop();
    if (segments.length === 0) {
      // The versions root: no auth and no Sforce-Limit-Info.
      const rootDecision = await applyFaults(core, req, reply, 'versions');
      if (rootDecision === 'handled') return reply;
      if (rootDecision.rule)
        return sendError(reply, faultError(rootDecision.rule, ids.next(KEY_PREFIXES.Account)));
      const list = [];
      for (let v = MIN_API_VERSION; v <= MAX_API_VERSION; v++) {
        list.push({ label: releaseLabel(v), url: `/services/data/v${v}.0`, version: `${v}.0` });
      }
      return reply.header('content-type', JSON_TYPE).send(JSON.stringify(list));
    }
    const vm = /^v(\d+)\.0$/.exec(segments[0]!);
    const major = vm ? Number(vm[1]) : NaN;
    if (!(major >= MIN_API_VERSION && major <= MAX_API_VERSION)) return sendError(reply, notFound());
    const version = `${major}.0`;
    const rest = segments.slice(1);
    const op = classify(req.method, rest);
    const decision = await applyFaults(core, req, reply, op);
    if (decision === 'handled') return reply;
    if (decision.rule) {
      const pathId = rest.find((s) => normalizeId(s) !== undefined && s.length >= 15);
      return sendError(reply, faultError(decision.rule, pathId ?? ids.next(KEY_PREFIXES.Account)));
    }
    try {
      const session = authenticate(req);
      if (usage.exhausted()) throw requestLimitExceeded();
      usage.count();
      const result = dispatch({ req, reply, version, session, query }, rest, op);
      if ('csv' in result) {
        reply.code(result.status).header('sforce-limit-info', limitHeader()).headers(result.headers);
        return reply.header('content-type', 'text/csv').send(result.csv);
      }
      return send(reply, result.status, result.body);
    } catch (err) {
      if (err instanceof SfError) return sendError(reply, err);
      throw err;
    }
  };

  const identityHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { org, user } = req.params as { org: string; user: string };
    let session: Session;
    try {
      session = authenticate(req);
    } catch {
      return reply.code(403).header('content-type', 'text/plain').send('Bad_OAuth_Token');
    }
    if (normalizeId(org) !== options.orgId || normalizeId(user) !== session.userId) {
      return reply.code(403).header('content-type', 'text/plain').send('Bad_Id');
    }
    const url = baseUrl(req);
    return reply.header('content-type', JSON_TYPE).send(
      JSON.stringify({
        id: `${url}/id/${options.orgId}/${session.userId}`,
        asserted_user: true,
        user_id: session.userId,
        organization_id: options.orgId,
        username: options.username,
        nick_name: options.username.split('@')[0],
        display_name: 'Integration User',
        email: options.username,
        email_verified: true,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_US',
        utcOffset: 0,
        is_app_installed: true,
        urls: {
          rest: `${url}/services/data/v{version}/`,
          sobjects: `${url}/services/data/v{version}/sobjects/`,
          query: `${url}/services/data/v{version}/query/`,
          profile: `${url}/${session.userId}`,
        },
      }),
    );
  };

  const revokeHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = new URLSearchParams(
      typeof req.body === 'string' ? req.body : (req.url.split('?')[1] ?? ''),
    );
    const token = params.get('token') ?? '';
    const rt = refreshTokens.get(token);
    if (rt) rt.revoked = true;
    else if (!sessions.delete(token))
      return oauthError(reply, 400, 'unsupported_token_type', 'this token type is not supported');
    return reply.code(200).send();
  };

  // Protocol routes live in their own encapsulated context so their raw-body parsing (SF's own JSON
  // errors, form-encoded OAuth bodies) does not change how the shared admin routes parse JSON.
  void core.app.register((api: FastifyInstance, _opts, done) => {
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    api.post('/services/oauth2/token', tokenHandler);
    api.post('/services/oauth2/revoke', revokeHandler);
    api.get('/id/:org/:user', identityHandler);
    api.all('/services/data', dataHandler);
    api.all('/services/data/*', dataHandler);
    done();
  });

  // ------------------------------------------------------------------ admin

  const uiChange = (type: string, fn: (def: ObjectDef, d: DmlContext) => void) => {
    const def = findObject(type);
    if (!def) throw notFound();
    const d: DmlContext = { userId: options.uiUserId, now: now(), changes: [] };
    fn(def, d);
    // A change made in the classic UI carries no API origin.
    publish(d.changes, '');
  };

  const sim: SalesforceSimulator = {
    core,
    options,
    get url() {
      return running?.url;
    },
    events,
    async start(opts) {
      running = await listen(core, { port: opts?.port ?? 4010, host: opts?.host });
      return running;
    },
    async stop() {
      await events.drain();
      await running?.stop();
      running = undefined;
    },
    reset() {
      core.faults.reset();
      core.requests.clear();
      store.clear();
      cursors.clear();
      changeLog.length = 0;
      events.clear();
      usage.set(0);
      usage.limit = options.dailyApiLimit;
      usage.windowMs = options.apiUsageWindowMs;
      bulk.reset();
    },
    records(type, opts) {
      const def = findObject(type);
      if (!def) return [];
      return store.list(def.name, opts?.includeDeleted).map((r) => render(def, r, `${MAX_API_VERSION}.0`));
    },
    record(type, id) {
      const def = findObject(type);
      const id18 = normalizeId(id);
      const row = def && id18 ? store.get(def.name, id18) : undefined;
      return def && row ? render(def, row, `${MAX_API_VERSION}.0`) : undefined;
    },
    seed(type, records) {
      const def = findObject(type);
      if (!def) throw new Error(`unknown sObject type ${type}`);
      const list = Array.isArray(records) ? records : [records];
      return list.map((r) => store.seed(def, r, { userId: options.userId, now: now(), changes: [] }));
    },
    uiUpdate(type, id, fields) {
      uiChange(type, (def, d) => store.update(def, id, fields, d));
    },
    uiDelete(type, id) {
      uiChange(type, (def, d) => store.delete(def, id, d));
    },
    expireSessions(opts) {
      const n = sessions.size;
      sessions.clear();
      if (opts?.revokeRefreshTokens) sim.revokeRefreshTokens();
      return n;
    },
    revokeRefreshTokens() {
      for (const rt of refreshTokens.values()) rt.revoked = true;
    },
    tokensIssued: () => issued.map((t) => ({ ...t })),
    apiUsage: () => ({ used: usage.used(), limit: usage.limit, windowMs: usage.windowMs }),
    setApiUsage(used, limit) {
      usage.set(used);
      if (limit !== undefined) usage.limit = limit;
    },
    setApiUsageWindow(windowMs) {
      usage.windowMs = windowMs;
    },
    advanceApiUsageWindow(ms) {
      usage.advance(ms);
    },
    configureEvents(target) {
      events.configure(target);
    },
    changeEvents: () => changeLog.map((e) => structuredClone(e)),
    drainEvents: () => events.drain(),
  };

  registerAdminRoutes(core, {
    reset: () => sim.reset(),
    records: (q) => {
      const includeDeleted = q.includeDeleted === 'true';
      if (q.type && q.id) return sim.record(q.type, q.id) ?? null;
      if (q.type) return sim.records(q.type, { includeDeleted });
      return Object.fromEntries([...SCHEMA.keys()].map((t) => [t, sim.records(t, { includeDeleted })]));
    },
  });

  const adminError = (reply: FastifyReply, err: unknown) => {
    if (err instanceof SfError)
      return reply.code(err.status === 401 ? 400 : err.status).send(err.toRestBody());
    if (err instanceof Error)
      return reply.code(400).send([{ message: err.message, errorCode: 'INVALID_INPUT' }]);
    throw err;
  };

  core.app.post('/__admin/sessions/expire', (req, reply) => {
    const body = (req.body ?? {}) as { revokeRefreshTokens?: boolean };
    return reply.send({
      expired: sim.expireSessions({ revokeRefreshTokens: body.revokeRefreshTokens === true }),
    });
  });
  core.app.get('/__admin/sessions', (_req, reply) =>
    reply.send({
      active: sessions.size,
      tokensIssued: issued.map((t) => ({ grantType: t.grantType, at: t.at })),
    }),
  );
  core.app.get('/__admin/limits', (_req, reply) => reply.send(sim.apiUsage()));
  core.app.put('/__admin/limits', (req, reply) => {
    const body = (req.body ?? {}) as { used?: number; limit?: number; windowMs?: number; advanceMs?: number };
    const bad = (['used', 'limit', 'windowMs', 'advanceMs'] as const).find(
      (k) => body[k] !== undefined && !(Number.isInteger(body[k]) && body[k] >= 0),
    );
    if (bad)
      return reply
        .code(400)
        .send([{ message: `${bad} must be a non-negative integer`, errorCode: 'INVALID_INPUT' }]);
    if (body.windowMs !== undefined) sim.setApiUsageWindow(body.windowMs);
    if (body.used !== undefined || body.limit !== undefined)
      sim.setApiUsage(body.used ?? usage.used(), body.limit);
    if (body.advanceMs !== undefined) sim.advanceApiUsageWindow(body.advanceMs);
    return reply.send(sim.apiUsage());
  });
  core.app.get('/__admin/events', (_req, reply) =>
    reply.send({ configured: events.isConfigured(), deliveries: events.list(), events: sim.changeEvents() }),
  );
  core.app.put('/__admin/events', (req, reply) => {
    const body = (req.body ?? {}) as Partial<OutboundTarget>;
    sim.configureEvents(body.url && body.secret ? { url: body.url, secret: body.secret } : undefined);
    return reply.send({ configured: events.isConfigured() });
  });
  core.app.post('/__admin/records/:type', (req, reply) => {
    try {
      const ids = sim.seed((req.params as { type: string }).type, req.body as Record<string, unknown>);
      return reply.code(201).send({ ids });
    } catch (err) {
      return adminError(reply, err);
    }
  });
  core.app.post('/__admin/records/:type/:id', (req, reply) => {
    const { type, id } = req.params as { type: string; id: string };
    try {
      sim.uiUpdate(type, id, (req.body ?? {}) as Record<string, unknown>);
      return reply.send(sim.record(type, id));
    } catch (err) {
      return adminError(reply, err);
    }
  });
  core.app.delete('/__admin/records/:type/:id', (req, reply) => {
    const { type, id } = req.params as { type: string; id: string };
    try {
      sim.uiDelete(type, id);
      return reply.code(204).send();
    } catch (err) {
      return adminError(reply, err);
    }
  });

  return sim;
}
