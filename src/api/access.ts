import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { bearerKey, hashAccessKey, hasScope } from '../security/access-keys';
import type { AccessKeyEntry, AccessKeyring, AccessScope } from '../security/access-keys';
import { HttpError } from './errors';

/**
 * Who may call which `/v1` route. One table, by method and route pattern; a route missing from it needs
 * `admin`, so a new route is closed until someone decides its scope (a test checks every route is
 * listed). `runs:operate` routes change what runs do (cancel, redrive, pause, trigger, rewrite a
 * cursor, probe systems): each such request writes an audit line.
 */
export const routeScopes: Record<string, AccessScope> = {
  'POST /v1/customers': 'flows:start',
  'POST /v1/flows/:type/runs': 'flows:start',
  'GET /v1/runs': 'runs:read',
  'GET /v1/runs/:workflowId': 'runs:read',
  'GET /v1/failed-runs': 'runs:read',
  'POST /v1/failed-runs/redrive': 'runs:operate',
  'GET /v1/failed-runs/redrive/:workflowId': 'runs:read',
  'POST /v1/runs/:workflowId/cancel': 'runs:operate',
  'POST /v1/runs/:workflowId/redrive': 'runs:operate',
  'POST /v1/connectivity-checks': 'runs:operate',
  'GET /v1/report': 'runs:read',
  'GET /v1/syncs': 'runs:read',
  'GET /v1/syncs/:name': 'runs:read',
  'GET /v1/syncs/:name/quarantine': 'runs:read',
  'POST /v1/syncs/:name/trigger': 'runs:operate',
  'POST /v1/syncs/:name/pause': 'runs:operate',
  'POST /v1/syncs/:name/resume': 'runs:operate',
  'POST /v1/syncs/:name/backfill': 'runs:operate',
  'PUT /v1/syncs/:name/cursor': 'runs:operate',
  'POST /v1/syncs/:name/quarantine/redrive': 'runs:operate',
  'POST /v1/reconciliations': 'runs:operate',
  'GET /v1/reconciliations/:workflowId': 'runs:read',
};

export function routeScope(method: string, url: string | undefined): AccessScope {
  return routeScopes[`${method} ${url ?? ''}`] ?? 'admin';
}

export interface ApiAccess {
  /** The single bearer token of earlier versions: every scope, no per-key rate limit. */
  apiToken?: string;
  /** Scoped keys (ACCESS_KEYS). */
  accessKeys?: AccessKeyring;
}

const legacyTokenId = 'api-token';

/**
 * Each key's own rate (`perMinute` over a minute), for the request's authenticated key (set
 * `req.accessKey` first): past it, 429 with Retry-After. Needs `@fastify/rate-limit` registered.
 */
export function perKeyRateLimit(scope: FastifyInstance) {
  const rate = scope.createRateLimit({
    timeWindow: 60_000,
    max: (req) => req.accessKey?.perMinute ?? 1,
    keyGenerator: (req) => `key:${req.accessKey?.id ?? ''}`,
  });
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const verdict = await rate(req);
    if (!verdict.isAllowed && verdict.isExceeded) {
      void reply.header('retry-after', String(verdict.ttlInSeconds));
      const key = req.accessKey;
      throw new HttpError(
        429,
        'rate_limited',
        `key "${key?.id}": at most ${key?.perMinute} requests a minute`,
      );
    }
  };
}

/**
 * Authentication (401), scope (403) and per-key rate limit (429 + Retry-After) for every route of the
 * scope it is called on, in that order and before the handler: a refused request starts, signals and
 * writes nothing. Needs `@fastify/rate-limit` registered on an enclosing scope.
 */
export function registerAccessControl(scope: FastifyInstance, access: ApiAccess): void {
  if (!access.apiToken && !access.accessKeys) throw new Error('the API needs API_TOKEN or ACCESS_KEYS');
  const legacyDigest = access.apiToken ? Buffer.from(hashAccessKey(access.apiToken), 'hex') : undefined;
  const legacy: AccessKeyEntry = { id: legacyTokenId, sha256: '', scopes: ['admin'], perMinute: 1 };
  const enforceRate = perKeyRateLimit(scope);

  const authenticate = (req: FastifyRequest): AccessKeyEntry | undefined => {
    const presented = bearerKey(req.headers.authorization);
    const byKey = access.accessKeys?.verify(presented);
    if (byKey) return byKey;
    // The legacy token is compared digest to digest (equal lengths, constant time).
    if (legacyDigest && presented !== undefined) {
      const given = Buffer.from(hashAccessKey(presented), 'hex');
      if (timingSafeEqual(given, legacyDigest)) return legacy;
    }
    return undefined;
  };

  // A route added without deciding its scope is closed (admin only), and says so at start-up.
  scope.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || routeScopes[`${method} ${route.url}`]) continue;
      scope.log.warn(
        { route: `${method} ${route.url}` },
        'api: route has no scope in routeScopes; admin keys only',
      );
    }
  });

  scope.addHook('onRequest', async (req, reply) => {
    const entry = authenticate(req);
    if (!entry) {
      void reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', 'missing or invalid bearer token');
    }
    req.accessKey = entry;
    const needed = routeScope(req.method, req.routeOptions.url);
    if (!hasScope(entry, needed)) {
      throw new HttpError(403, 'forbidden', `key "${entry.id}" does not hold the ${needed} scope`);
    }
    if (entry !== legacy) await enforceRate(req, reply);
  });

  // The audit trail of operate actions, refused ones included: who, what, on which run or sync, outcome.
  scope.addHook('onResponse', async (req, reply) => {
    if (routeScope(req.method, req.routeOptions.url) !== 'runs:operate') return;
    const params = (req.params ?? {}) as { workflowId?: string; name?: string };
    req.log.info(
      {
        audit: 'api.operate',
        keyId: req.accessKey?.id ?? null,
        method: req.method,
        route: req.routeOptions.url,
        target: params.workflowId ?? params.name ?? null,
        statusCode: reply.statusCode,
      },
      `audit: ${req.method} ${req.routeOptions.url} -> ${reply.statusCode}`,
    );
  });
}
