import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { metrics } from './metric-names';

/**
 * The API's Prometheus metrics (prom-client), served on `GET /metrics`: HTTP requests by route
 * template and status, their duration, source webhooks by source and verdict, and Node's process
 * metrics (`integration_api_process_*`, `integration_api_nodejs_*`). Labels carry route templates
 * (`/v1/runs/:workflowId`), never the path a caller sent, so ids and personal data cannot leak into
 * them and their number stays bounded. One registry per app (tests run several apps in one process).
 */
export interface ApiMetrics {
  registry: Registry;
}

const ingressPrefix = '/webhooks/';

export function registerApiMetrics(app: FastifyInstance): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'integration_api_' });
  const requests = new Counter({
    name: metrics.httpRequests.name,
    help: metrics.httpRequests.help,
    labelNames: metrics.httpRequests.labels,
    registers: [registry],
  });
  const duration = new Histogram({
    name: metrics.httpDuration.name,
    help: metrics.httpDuration.help,
    labelNames: metrics.httpDuration.labels,
    buckets: [...metrics.httpDuration.buckets],
    registers: [registry],
  });
  const ingress = new Counter({
    name: metrics.ingressEvents.name,
    help: metrics.ingressEvents.help,
    labelNames: metrics.ingressEvents.labels,
    registers: [registry],
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = routeOf(req);
    const status = reply.statusCode;
    requests.inc({ method: req.method, route, status_code: String(status) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    if (route.startsWith(ingressPrefix) && req.method === 'POST') {
      ingress.inc({ source: route.slice(ingressPrefix.length), verdict: ingressVerdict(status) });
    }
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
  return { registry };
}

/** The route template that matched, or `unmatched` (404s: the caller's path is not a bounded label). */
function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched';
}

function ingressVerdict(status: number): string {
  if (status >= 200 && status < 300) return 'accepted';
  if ([400, 401, 413, 415].includes(status)) return String(status);
  return 'error';
}
