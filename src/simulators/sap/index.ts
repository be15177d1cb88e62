/**
 * SAP ERP simulator: RFC function modules / BAPIs over SOAP 1.1 at `/sap/bc/soap/rfc`, served by
 * node-soap from the project's WSDL (wsdl/sap/rfc-functions.wsdl), with SAP's HTTP behaviour around it:
 * Basic auth with an HTML logon-error page, stateful sessions by cookie with an LUW that only
 * BAPI_TRANSACTION_COMMIT in the same session persists, ICM error pages and SOAP faults for technical
 * failures, and signed order events. See docs/simulators/sap.md.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as soap from 'soap';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyFaults, createSimulatorApp, listen, registerAdminRoutes } from '../common/server';
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';
import { OutboundEvents } from '../common/outbound';
import type { OutboundDelivery, OutboundTarget } from '../common/outbound';
import { DEFAULT_NUMBER_RANGES, SapStore, alpha } from './store';
import type { Adr6Record, Kna1Record, NumberRangeStarts, VbakRecord } from './store';
import {
  FUNCTION_NAMES,
  HEADER_CHANGE_FIELDS,
  SapEngine,
  UPDATE_FUNCTIONS,
  returnedError,
} from './functions';
import type { CallContext, CommittedOrderEvent, LuwEntry, Session } from './functions';
import { exceptionEnvelope, icmErrorPage, logonErrorPage, systemFailureEnvelope } from './pages';
import {
  CHANGE_POINTER_FUNCTIONS,
  CHANGE_POINTER_UPDATE_FUNCTIONS,
  ChangePointerLog,
  RfcException,
  registerChangePointerAdmin,
} from './change-pointers';
import type { ChangePointer } from './change-pointers';
import { conformToSchema } from './conform';
import type { ElementDescription } from './conform';

export const SAP_FAULT_KINDS = [
  'system-failure',
  'server-error-html',
  'service-unavailable',
  'timeout',
] as const;
export type SapFaultKind = (typeof SAP_FAULT_KINDS)[number];
export type CommitMode = 'explicit' | 'implicit';

export const SAP_DEFAULT_PORT = 4020;
export const SAP_SOAP_PATH = '/sap/bc/soap/rfc';
export const DEFAULT_WSDL_PATH = path.resolve(__dirname, '../../../wsdl/sap/rfc-functions.wsdl');

export interface SapSimulatorOptions {
  /** SAP users and passwords for HTTP Basic auth (user names are case-insensitive, like SAP's). */
  users?: Record<string, string>;
  /** System id and client: cookie name `SAP_SESSIONID_<SID>_<client>`, 401 realm, `sap-client`. */
  systemId?: string;
  client?: string;
  /** `explicit` (default): update BAPIs persist only on BAPI_TRANSACTION_COMMIT in the same session. */
  commitMode?: CommitMode;
  /** A session (and its uncommitted LUW) ends after this much idle time. Default 30 minutes. */
  sessionIdleTimeoutMs?: number;
  /** SAP protects `?wsdl` like any ICF service; default true. */
  wsdlRequiresAuth?: boolean;
  wsdlPath?: string;
  /** Logical system in BAPIRET2-SYSTEM. */
  logicalSystem?: string;
  /** The dialog user named in events for changes made "in the GUI" (POST /__admin/orders/<vbeln>). */
  dialogUser?: string;
  events?: OutboundTarget;
  numberRanges?: Partial<NumberRangeStarts>;
  /** Clock, for session expiry and dates in tests. */
  now?: () => Date;
}

export interface SalesOrderEventData {
  SALESDOCUMENT: string;
  CUSTOMER: string;
  PURCH_NO_C: string;
  NET_VALUE: number;
  CURRENCY: string;
  DOC_TYPE: string;
  SALES_ORG: string;
  REQ_DATE_H: string;
  CHANGED_AT: string;
  CHANGED_BY: string;
  CHANGED_FIELDS?: string[];
  items: {
    ITM_NUMBER: string;
    MATERIAL: string;
    SHORT_TEXT: string;
    REQ_QTY: number;
    SALES_UNIT: string;
    NET_VALUE: number;
    PLANT: string;
  }[];
}

export interface SessionInfo {
  id: string;
  user: string;
  createdAt: string;
  lastUsedAt: string;
  luw: LuwEntry[];
}

/** Header fields a dialog user can change through the admin surface (BAPISDH1 names). */
export type OrderChange = Partial<Record<keyof typeof HEADER_CHANGE_FIELDS, string>> & {
  items?: { ITM_NUMBER: string; TARGET_QTY: number }[];
};

export class OrderChangeError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 400,
  ) {
    super(message);
  }
}

export interface SapSimulator {
  core: SimulatorCore;
  /** Resolves when the WSDL is parsed and the SOAP service is ready. */
  ready: Promise<void>;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  reset(): void;
  customers(): Kna1Record[];
  customer(kunnr: string): Kna1Record | undefined;
  emails(): Adr6Record[];
  orders(): VbakRecord[];
  order(vbeln: string): VbakRecord | undefined;
  /** Open sessions with their uncommitted LUW. */
  sessions(): SessionInfo[];
  /** Ends every session, discarding uncommitted work (like SAP's session timeout). */
  expireSessions(): number;
  commitMode(): CommitMode;
  setCommitMode(mode: CommitMode): void;
  configureEvents(target: OutboundTarget | undefined): void;
  events: OutboundEvents;
  /** Changes an order as a dialog user in the GUI would, committed at once; emits sap.salesorder.changed. */
  changeOrderAsDialogUser(vbeln: string, change: OrderChange, user?: string): VbakRecord;
  /** The DEBMAS change pointers (BDCP2) written so far. */
  changePointers(): ChangePointer[];
  /** A dialog user's change in XD02 (committed at once, writes change pointers). */
  changeCustomerAsDialogUser(
    kunnr: string,
    fields: Partial<Kna1Record>,
    user?: string,
  ): Kna1Record | undefined;
  /** A dialog user's new customer in XD01 (committed at once, writes a change pointer). */
  createCustomerAsDialogUser(fields: Partial<Kna1Record> & { NAME1: string }, user?: string): Kna1Record;
  /** Adds or replaces a committed customer (test set-up; no change pointers). */
  putCustomer(customer: Partial<Kna1Record> & { KUNNR: string; NAME1: string }): Kna1Record;
}

interface RequestContext extends CallContext {
  result?: Record<string, unknown>;
  error?: unknown;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** The function module is the local name of the first element in the SOAP Body. */
function operationOf(xml: string): string | undefined {
  const m = /<(?:[\w.-]+:)?Body\b[^>]*>\s*(?:<!--[\s\S]*?-->\s*)*<(?:[\w.-]+:)?([\w.-]+)/.exec(xml);
  return m?.[1];
}

const RFC_NS = 'urn:sap-com:document:sap:rfc:functions';

/** node-soap writes `<?xml?>` and a `tns:` prefix; SAP writes neither, an empty Header and `n0:`. */
function sapStyleEnvelope(body: string): string {
  return body
    .replace(/^<\?xml[^>]*\?>/, '')
    .replace(/\s+xmlns:tns="urn:sap-com:document:sap:rfc:functions"/, '')
    .replace(/(<soap-env:Envelope[^>]*>)(?!<soap-env:Header)/, '$1<soap-env:Header/>')
    .replace(/<tns:([\w.]+)>/, `<n0:$1 xmlns:n0="${RFC_NS}">`)
    .replace(/<\/tns:([\w.]+)>/, '</n0:$1>');
}

export function createSapSimulator(options: SapSimulatorOptions = {}): SapSimulator {
  const systemId = options.systemId ?? 'DEV';
  const client = options.client ?? '100';
  const users = new Map(
    Object.entries(options.users ?? { DEV_USER: 'dev-password' }).map(([u, p]) => [u.toUpperCase(), p]),
  );
  const idleMs = options.sessionIdleTimeoutMs ?? 30 * 60_000;
  const wsdlRequiresAuth = options.wsdlRequiresAuth ?? true;
  const logicalSystem = options.logicalSystem ?? `${systemId}CLNT${client}`;
  const dialogUser = options.dialogUser ?? 'MMUSTERMANN';
  const now = options.now ?? (() => new Date());
  const cookieName = `SAP_SESSIONID_${systemId}_${client}`;
  let mode: CommitMode = options.commitMode ?? 'explicit';

  const core = createSimulatorApp('sap', SAP_FAULT_KINDS);
  const { app } = core;
  const events = new OutboundEvents(options.events);
  const store = new SapStore({ ...DEFAULT_NUMBER_RANGES, ...options.numberRanges });
  const engine = new SapEngine(store, { logicalSystem, onOrderEvent: (e) => sendOrderEvent(e) });
  const als = new AsyncLocalStorage<RequestContext>();
  // Change documents are written from the before/after images at COMMIT WORK; a rollback drops pending changes.
  const changePointers = new ChangePointerLog({ store, client, now });
  const commitLuw = engine.commit.bind(engine);
  const discardLuw = engine.discard.bind(engine);
  engine.commit = (session, at) => {
    const before = changePointers.captureChanges();
    let n: number;
    try {
      changePointers.applyPending(session);
      n = commitLuw(session, at);
    } catch (err) {
      changePointers.dropCapture(before);
      throw err;
    }
    changePointers.record(before, session.user, at);
    return n;
  };
  engine.discard = (session) => {
    changePointers.discard(session);
    return discardLuw(session);
  };
  const wsdlXml = readFileSync(options.wsdlPath ?? DEFAULT_WSDL_PATH, 'utf8');

  function sendOrderEvent(e: CommittedOrderEvent): void {
    const o = e.order;
    const data: SalesOrderEventData = {
      SALESDOCUMENT: o.VBELN,
      CUSTOMER: o.KUNNR,
      PURCH_NO_C: o.BSTKD,
      NET_VALUE: o.NETWR,
      CURRENCY: o.WAERK,
      DOC_TYPE: o.AUART,
      SALES_ORG: o.VKORG,
      REQ_DATE_H: o.VDATU,
      CHANGED_AT: e.changedAt.toISOString(),
      CHANGED_BY: e.changedBy,
      ...(e.changedFields ? { CHANGED_FIELDS: e.changedFields } : {}),
      items: o.items.map((it) => ({
        ITM_NUMBER: it.POSNR,
        MATERIAL: it.MATNR,
        SHORT_TEXT: it.ARKTX,
        REQ_QTY: it.KWMENG,
        SALES_UNIT: it.VRKME,
        NET_VALUE: it.NETWR,
        PLANT: it.WERKS,
      })),
    };
    events.send(e.type, data);
  }

  // node-soap parses requests against the WSDL and serialises responses from it; we keep HTTP (auth,
  // cookies, faults) in Fastify and hand it only the XML.
  const port: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {};
  // Each function's reply element as the WSDL describes it, to serialise replies the way SAP does.
  let outputs: Record<string, { output: ElementDescription }> = {};
  const conformed = (name: string, result: Record<string, unknown>) => {
    const description = outputs[name]?.output;
    return description ? (conformToSchema(result, description) as Record<string, unknown>) : result;
  };
  for (const name of FUNCTION_NAMES) {
    port[name] = (args) => {
      const ctx = als.getStore();
      if (!ctx) throw new Error('SAP simulator: function called outside a request');
      try {
        ctx.result = engine[name](args, ctx);
        return conformed(name, ctx.result);
      } catch (err) {
        // A dump in the function module: the route answers with SAP's system-failure fault.
        ctx.error = err;
        return {};
      }
    };
  }
  for (const name of CHANGE_POINTER_FUNCTIONS) {
    port[name] = (args) => {
      const ctx = als.getStore();
      if (!ctx) throw new Error('SAP simulator: function called outside a request');
      try {
        ctx.result = changePointers[name](args ?? {}, ctx);
        return conformed(name, ctx.result);
      } catch (err) {
        ctx.error = err;
        return {};
      }
    };
  }
  let soapServer: soap.Server | undefined;
  const described = new Promise<void>((resolve, reject) => {
    const wsdl = new soap.WSDL(wsdlXml, 'rfc-functions.wsdl', {});
    wsdl.onReady((err) => {
      if (err) return reject(err);
      const services = wsdl.describeServices() as Record<string, Record<string, typeof outputs>>;
      outputs = Object.assign(
        {},
        ...Object.values(services).flatMap((s) => Object.values(s)),
      ) as typeof outputs;
      resolve();
    });
  });
  const served = new Promise<void>((resolve, reject) => {
    const server = soap.listen(null, {
      path: SAP_SOAP_PATH,
      services: { ZSD_INTEGRATION_SERVICE: { ZSD_INTEGRATION_BINDING: port } },
      xml: wsdlXml,
      envelopeKey: 'soap-env',
      callback: (err: unknown) =>
        err
          ? reject(err instanceof Error ? err : new Error('SAP simulator: WSDL could not be loaded'))
          : resolve(),
    });
    soapServer = server;
  });
  const ready = Promise.all([described, served]).then(() => undefined);
  // Avoid an unhandled rejection before anyone awaits `ready`; start() and every request await it.
  ready.catch(() => undefined);

  function sweepSessions(nowMs: number): void {
    for (const s of engine.sessions.values()) {
      if (nowMs - s.lastUsedMs > idleMs) engine.endSession(s);
    }
  }

  function authenticate(req: FastifyRequest, reply: FastifyReply): string | undefined {
    const creds = basicCredentials(req.headers.authorization);
    const q = req.query as Record<string, string | undefined>;
    const clientOk = q['sap-client'] === undefined || q['sap-client'] === client;
    if (creds && clientOk && users.get(creds.user.toUpperCase()) === creds.password)
      return creds.user.toUpperCase();
    void reply
      .code(401)
      .header('www-authenticate', `Basic realm="SAP NetWeaver Application Server [${systemId}/${client}]"`)
      .header('content-type', 'text/html; charset=utf-8')
      .send(logonErrorPage(systemId, client));
    return undefined;
  }

  function sendFaultKind(kind: string, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (kind === 'server-error-html' || kind === 'service-unavailable') {
      const status = kind === 'service-unavailable' ? 503 : 500;
      return reply
        .code(status)
        .header('content-type', 'text/html; charset=utf-8')
        .send(icmErrorPage(status, req.url, now()));
    }
    return reply
      .code(500)
      .header('content-type', 'text/xml; charset=utf-8')
      .send(systemFailureEnvelope(now()));
  }

  app.addContentTypeParser(
    ['text/xml', 'application/xml', 'application/soap+xml'],
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('server', 'SAP NetWeaver Application Server / ABAP 753');
    return payload;
  });

  const soapHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    await ready;
    const q = req.query as Record<string, string | undefined>;
    if (req.method === 'GET') {
      const decision = await applyFaults(core, req, reply, undefined);
      if (decision === 'handled') return reply;
      if (decision.rule) return sendFaultKind(decision.rule.kind, req, reply);
      if (!Object.keys(q).some((k) => k.toLowerCase() === 'wsdl')) {
        return reply
          .code(405)
          .header('content-type', 'text/html; charset=utf-8')
          .send('<html><body>Method not allowed: use POST with a SOAP envelope, or ?wsdl</body></html>');
      }
      if (wsdlRequiresAuth && !authenticate(req, reply)) return reply;
      const location = `http://${req.headers.host ?? '127.0.0.1'}${SAP_SOAP_PATH}?sap-client=${client}`;
      const body = wsdlXml.replace(/(<soap:address\s+location=")[^"]*(")/, `$1${location}$2`);
      return reply.header('content-type', 'text/xml; charset=utf-8').send(body);
    }

    const xml =
      typeof req.body === 'string' ? req.body : Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const operation = operationOf(xml);
    const decision = await applyFaults(core, req, reply, operation);
    if (decision === 'handled') return reply;
    if (decision.rule) return sendFaultKind(decision.rule.kind, req, reply);
    const user = authenticate(req, reply);
    if (!user) return reply;
    if (!operation) return sendFaultKind('system-failure', req, reply);
    if (
      !(FUNCTION_NAMES as readonly string[]).includes(operation) &&
      !(CHANGE_POINTER_FUNCTIONS as readonly string[]).includes(operation)
    ) {
      return reply
        .code(500)
        .header('content-type', 'text/xml; charset=utf-8')
        .send(exceptionEnvelope(operation, 'FU_NOT_FOUND', `Function module "${operation}" not found`));
    }

    const at = now();
    const nowMs = at.getTime();
    sweepSessions(nowMs);
    const presented = parseCookies(req.headers.cookie)[cookieName];
    const existing = presented ? engine.sessions.get(decodeURIComponent(presented)) : undefined;
    const session = existing && existing.user === user ? existing : engine.newSession(user, nowMs);
    const fresh = session !== existing;
    session.lastUsedMs = nowMs;

    const ctx: RequestContext = { session, user, now: at };
    // SAP dispatches on the body element; drop SOAPAction so a foreign WSDL's action cannot misroute.
    const headers = { 'content-type': String(req.headers['content-type'] ?? 'text/xml') };
    const response = await als.run(ctx, () =>
      soapServer!.processRequest(xml, { url: SAP_SOAP_PATH, headers }),
    );
    if (ctx.error instanceof RfcException) {
      if (fresh) engine.discard(session);
      return reply
        .code(500)
        .header('content-type', 'text/xml; charset=utf-8')
        .send(exceptionEnvelope(ctx.error.functionName, ctx.error.exception, ctx.error.message));
    }
    if (ctx.error !== undefined) {
      engine.discard(session);
      return sendFaultKind('system-failure', req, reply);
    }
    const isUpdate = UPDATE_FUNCTIONS.has(operation) || CHANGE_POINTER_UPDATE_FUNCTIONS.has(operation);
    if (isUpdate && mode === 'implicit' && ctx.result && !returnedError(ctx.result)) {
      engine.commit(session, at);
    }
    // A request without the session cookie is a session of its own: what it did not commit is gone.
    if (fresh) engine.discard(session);

    return reply
      .code(response.statusCode)
      .header('content-type', 'text/xml; charset=utf-8')
      .header('set-cookie', [
        `${cookieName}=${encodeURIComponent(session.id)}; path=/; HttpOnly`,
        `sap-contextid=${encodeURIComponent(session.contextId)}; path=${SAP_SOAP_PATH}`,
      ])
      .send(sapStyleEnvelope(response.body));
  };
  app.route({ method: ['GET', 'POST'], url: SAP_SOAP_PATH, handler: soapHandler });

  function kna1View(c: Kna1Record): Omit<Kna1Record, 'salesAreas' | 'WAERK'> {
    const { salesAreas: _a, WAERK: _w, ...rest } = c;
    return rest;
  }

  function sessionInfos(): SessionInfo[] {
    return [...engine.sessions.values()].map((s: Session) => ({
      id: s.id,
      user: s.user,
      createdAt: s.createdAt,
      lastUsedAt: new Date(s.lastUsedMs).toISOString(),
      luw: s.luw,
    }));
  }

  function records(table: string | undefined): unknown {
    const orders = [...store.orders.values()];
    const tables: Record<string, () => unknown> = {
      KNA1: () => [...store.customers.values()].map(kna1View),
      KNVV: () =>
        [...store.customers.values()].flatMap((c) =>
          c.salesAreas.map((a) => {
            const [VKORG, VTWEG, SPART] = a.split('/');
            return { KUNNR: c.KUNNR, VKORG, VTWEG, SPART, WAERS: c.WAERK };
          }),
        ),
      ADR6: () => store.emails,
      VBAK: () => orders.map(({ items: _i, partners: _p, ...h }) => h),
      VBAP: () => orders.flatMap((o) => o.items),
      VBPA: () => orders.flatMap((o) => o.partners),
      MARA: () => store.materials,
      BDCP2: () => changePointers.list(),
      LUW: () => sessionInfos(),
    };
    if (table) {
      const fn = tables[table.toUpperCase()];
      return fn ? fn() : { error: `unknown table "${table}"; known: ${Object.keys(tables).join(', ')}` };
    }
    return { KNA1: tables.KNA1!(), ADR6: tables.ADR6!(), VBAK: tables.VBAK!(), VBAP: tables.VBAP!() };
  }

  function reset(): void {
    for (const s of [...engine.sessions.values()]) engine.endSession(s);
    store.reset();
    changePointers.reset();
    events.clear();
    events.configure(options.events);
    mode = options.commitMode ?? 'explicit';
  }

  function changeOrderAsDialogUser(vbeln: string, change: OrderChange, user = dialogUser): VbakRecord {
    const key = alpha(vbeln);
    const order = store.orders.get(key);
    if (!order)
      throw new OrderChangeError(`SD document ${vbeln} is not in the database or has been archived`, 404);
    const lockedBy = engine.orderLockedBy(key);
    if (lockedBy)
      throw new OrderChangeError(
        `Sales document ${vbeln} is currently being processed (by user ${lockedBy})`,
        409,
      );
    const header: Partial<Record<string, string>> = {};
    const changedFields: string[] = [];
    for (const [bapiField, vbakField] of Object.entries(HEADER_CHANGE_FIELDS)) {
      const value = change[bapiField];
      if (value === undefined) continue;
      if (order[vbakField] !== value) changedFields.push(bapiField);
      header[vbakField] = value;
    }
    const quantities: Record<string, number> = {};
    for (const it of change.items ?? []) {
      const posnr = String(it.ITM_NUMBER).padStart(6, '0');
      const item = order.items.find((x) => x.POSNR === posnr);
      if (!item) throw new OrderChangeError(`Item ${posnr} does not exist in ${vbeln}`, 400);
      if (!(it.TARGET_QTY > 0))
        throw new OrderChangeError(`Quantity of item ${posnr} must be greater than zero`, 400);
      if (item.KWMENG !== it.TARGET_QTY) changedFields.push(`ITEM_${posnr}_TARGET_QTY`);
      quantities[posnr] = it.TARGET_QTY;
    }
    const at = now();
    const updated = engine.applyOrderChange(key, header, quantities, user.toUpperCase(), at)!;
    sendOrderEvent({
      type: 'sap.salesorder.changed',
      order: updated,
      changedBy: user.toUpperCase(),
      changedAt: at,
      changedFields,
    });
    return updated;
  }

  registerAdminRoutes(core, {
    reset,
    records: (query) => records(query.table),
  });
  registerChangePointerAdmin(app, changePointers, dialogUser);
  app.get('/__admin/luws', (_req, reply) => reply.send(sessionInfos()));
  app.delete('/__admin/sessions', (_req, reply) => reply.send({ ended: expireSessions() }));
  app.get('/__admin/commit-mode', (_req, reply) => reply.send({ mode }));
  app.put('/__admin/commit-mode', async (req, reply) => {
    const m = (req.body as { mode?: string } | undefined)?.mode;
    if (m !== 'explicit' && m !== 'implicit')
      return reply.code(400).send({ error: 'mode must be "explicit" or "implicit"' });
    mode = m;
    return { mode };
  });
  app.get('/__admin/events', (_req, reply) =>
    reply.send({ configured: events.isConfigured(), deliveries: events.list() }),
  );
  app.put('/__admin/events', async (req, reply) => {
    const body = (req.body ?? {}) as Partial<OutboundTarget>;
    if (!body.url && !body.secret) {
      events.configure(undefined);
      return { configured: false };
    }
    if (!body.url || !body.secret)
      return reply.code(400).send({ error: 'events need both "url" and "secret" (whsec_...)' });
    events.configure({ url: body.url, secret: body.secret });
    return { configured: true, url: body.url };
  });
  app.post('/__admin/orders/:vbeln', async (req, reply) => {
    const { vbeln } = req.params as { vbeln: string };
    const body = (req.body ?? {}) as OrderChange & { user?: string };
    const { user, ...change } = body;
    try {
      return changeOrderAsDialogUser(vbeln, change, user);
    } catch (err) {
      if (err instanceof OrderChangeError) return reply.code(err.status).send({ error: err.message });
      throw err;
    }
  });

  function expireSessions(): number {
    const all = [...engine.sessions.values()];
    for (const s of all) engine.endSession(s);
    return all.length;
  }

  return {
    core,
    ready,
    async start(opts = {}) {
      await ready;
      return listen(core, { port: opts.port ?? SAP_DEFAULT_PORT, host: opts.host });
    },
    reset,
    customers: () => [...store.customers.values()],
    customer: (kunnr) => store.customers.get(alpha(kunnr)),
    emails: () => [...store.emails],
    orders: () => [...store.orders.values()],
    order: (vbeln) => store.orders.get(alpha(vbeln)),
    sessions: sessionInfos,
    expireSessions,
    commitMode: () => mode,
    setCommitMode: (m) => {
      mode = m;
    },
    configureEvents: (target) => events.configure(target),
    events,
    changeOrderAsDialogUser,
    changePointers: () => changePointers.list(),
    changeCustomerAsDialogUser: (kunnr, fields, user = dialogUser) =>
      changePointers.changeAsDialogUser(kunnr, fields, user),
    createCustomerAsDialogUser: (fields, user = dialogUser) =>
      changePointers.createAsDialogUser(fields, user),
    putCustomer(partial) {
      const c: Kna1Record = {
        NAME2: '',
        SORTL: partial.NAME1.toUpperCase().slice(0, 10),
        STRAS: '',
        ORT01: '',
        PSTLZ: '',
        REGIO: '',
        LAND1: 'DE',
        TELF1: '',
        SPRAS: 'E',
        KTOKD: '0001',
        LOEVM: '',
        AUFSD: '',
        ERDAT: now().toISOString().slice(0, 10),
        ERNAM: 'DEV_USER',
        ADRNR: '',
        salesAreas: ['1000/10/00'],
        WAERK: 'EUR',
        ...partial,
        KUNNR: alpha(partial.KUNNR),
      };
      store.customers.set(c.KUNNR, c);
      return c;
    },
  };
}

export type { Adr6Record, Kna1Record, VbakRecord, VbapRecord, VbpaRecord } from './store';
export type { LuwEntry } from './functions';
export type { OutboundDelivery };
