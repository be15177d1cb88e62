/**
 * A Salesforce org as the REST API, OAuth 2.0 and Change Data Capture show it, written from Salesforce's
 * public documentation. Its sections: org.ts (state), oauth.ts, rest.ts (with soql.ts, store.ts,
 * schema.ts, bulk.ts), rendering.ts, change-events.ts, admin.ts.
 */
import type { FastifyInstance } from 'fastify';
import { listen } from '../common/server';
import { createUiChange, registerSalesforceAdmin } from './admin';
import { createChangeEvents } from './change-events';
import { registerPubSubAdminRoutes } from './pubsub/admin';
import { createPubSubService } from './pubsub/service';
import { normalizeId } from './ids';
import { createOAuth } from './oauth';
import { createOrg } from './org';
import { createRendering } from './rendering';
import { createRestApi } from './rest';
import { findObject } from './schema';
import type { SalesforceSimulator, SalesforceSimulatorOptions } from './types';
import { MAX_API_VERSION } from './types';

export { checksum, normalizeId, to18 } from './ids';
export { SfError } from './errors';
export { MAX_API_VERSION, MIN_API_VERSION, SALESFORCE_FAULT_KINDS } from './types';
export type { ChangeEvent, SalesforceSimulator, SalesforceSimulatorOptions, TokenIssue } from './types';

export function createSalesforceSimulator(input: SalesforceSimulatorOptions = {}): SalesforceSimulator {
  const org = createOrg(input);
  const {
    bulk,
    changeLog,
    core,
    cursors,
    events,
    issued,
    now,
    options,
    refreshTokens,
    sessions,
    store,
    usage,
  } = org;
  let pubSubRunning: { endpoint: string; caCertificate: string } | undefined;
  const pubsub = createPubSubService({
    orgId: options.orgId,
    isValidSession: (token) => (sessions.get(token)?.expiresAt ?? 0) > now(),
    retentionMs: input.pubSubRetentionMs,
    keepaliveMs: input.pubSubKeepaliveMs,
    now,
  });
  registerPubSubAdminRoutes(core.app, pubsub, () => pubSubRunning ?? {});
  const changeEvents = createChangeEvents(org, (changes, tx) => pubsub.publish(changes, tx));
  const rendering = createRendering(org);
  const { render } = rendering;
  const oauth = createOAuth(org);
  const { tokenHandler, revokeHandler, identityHandler } = oauth;
  const { dataHandler } = createRestApi(org, {
    ...rendering,
    ...changeEvents,
    authenticate: oauth.authenticate,
  });
  const uiChange = createUiChange(org, changeEvents.publish);

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

  const sim: SalesforceSimulator = {
    core,
    options,
    get url() {
      return org.running?.url;
    },
    events,
    pubsub,
    get pubSub() {
      return pubSubRunning;
    },
    async start(opts) {
      org.running = await listen(core, { port: opts?.port ?? 4010, host: opts?.host });
      pubSubRunning = await pubsub.start(input.pubSubPort ?? (opts?.port === 0 ? 0 : 4011), opts?.host);
      return org.running;
    },
    async stop() {
      await events.drain();
      await pubsub.stop();
      pubSubRunning = undefined;
      await org.running?.stop();
      org.running = undefined;
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
      pubsub.reset();
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

  registerSalesforceAdmin(org, sim);
  return sim;
}
