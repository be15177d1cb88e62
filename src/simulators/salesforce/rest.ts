/** The REST API under /services/data: versions, describe, sObject CRUD, upsert by external id, SOQL, composite collections, Bulk API 2.0 queries, limits. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyFaults } from '../common/server';
import { SfError, notFound, requestLimitExceeded } from './errors';
import { KEY_PREFIXES, normalizeId } from './ids';
import type { Cursor, SalesforceOrg, Session } from './org';
import { SCHEMA, describeGlobalEntry, describeObject, findObject } from './schema';
import type { ObjectDef } from './schema';
import { checkQuery, parseSoql, runQuery } from './soql';
import type { Change, DmlContext } from './store';
import { hasConflictingFileSuffix } from './url-suffix';
import type { createChangeEvents } from './change-events';
import type { createOAuth } from './oauth';
import { JSON_TYPE } from './rendering';
import type { createRendering } from './rendering';
import { MAX_API_VERSION, MIN_API_VERSION } from './types';

type RestSections = ReturnType<typeof createRendering> &
  ReturnType<typeof createChangeEvents> &
  Pick<ReturnType<typeof createOAuth>, 'authenticate'>;

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

export function createRestApi(org: SalesforceOrg, sections: RestSections) {
  const { options, now, core, ids, store, cursors, baseUrl, usage, bulk } = org;
  const { render, send, sendError, faultError, limitHeader, publish, apiOrigin, authenticate } = sections;

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
    // Savepoints, not copies of the org: a collection of 200 against an org of 10,000 records stays cheap.
    const before = allOrNone ? store.savepoint() : undefined;
    const committed: Change[] = [];
    const outcomes: { id?: string; err?: SfError; extra?: Record<string, unknown> }[] = [];
    try {
      for (const item of items) {
        const d = dml(ctx);
        const itemSavepoint = allOrNone ? undefined : store.savepoint();
        try {
          const r = op(item, d);
          outcomes.push({ id: r.id, extra: r.extra });
          committed.push(...d.changes);
        } catch (err) {
          if (!(err instanceof SfError)) throw err;
          if (itemSavepoint) store.rollback(itemSavepoint); // a failed item leaves nothing behind
          outcomes.push({ id: idOf(item), err });
        } finally {
          if (itemSavepoint) store.release(itemSavepoint);
        }
      }
      const failed = outcomes.some((o) => o.err);
      if (allOrNone && failed) {
        store.rollback(before!);
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
    } finally {
      if (before) store.release(before);
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
  return { dataHandler };
}
