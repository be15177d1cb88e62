import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { connectivityCheck } from '../../workflows/connectivity-check';
import type { ConnectivityTarget } from '../../workflows/connectivity-check.messages';
import { HttpError } from '../errors';
import { optionalBody } from '../params';
import { statusUrl } from '../run-view';

export interface ConnectivityRouteSettings {
  workflowQueue: string;
  /** The configured systems: the only targets a check may probe (never a URL the caller names). */
  connectivityTargets: ConnectivityTarget[];
  /** Checks allowed per window across all callers (each check calls every named system once). */
  limit?: { max: number; windowMs: number };
}

/**
 * The body of `POST /v1/connectivity-checks`: optionally, which of the configured systems to probe (the
 * OpenAPI document is generated from it, so it lists them).
 */
export function connectivityBody(targets: readonly ConnectivityTarget[]) {
  const names = targets.map((t) => t.system);
  const notConfigured = `not a configured system (configured: ${names.join(', ') || 'none'})`;
  const [first, ...rest] = names;
  return z
    .object({
      systems: z
        .array(first === undefined ? z.never(notConfigured) : z.enum([first, ...rest], notConfigured))
        .min(1)
        .max(Math.max(1, names.length))
        .optional(),
    })
    .strict();
}

/**
 * `POST /v1/connectivity-checks`: probes the configured systems from the workers' side, as a run of its
 * own. Needs `@fastify/rate-limit` registered on an enclosing scope (see app.ts).
 */
export function registerConnectivityRoutes(
  app: FastifyInstance,
  client: Client,
  settings: ConnectivityRouteSettings,
): void {
  const limit = settings.limit ?? { max: 6, windowMs: 60_000 };
  const rate = app.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: () => 'connectivity-checks',
  });
  const checkBody = connectivityBody(settings.connectivityTargets);
  app.post('/v1/connectivity-checks', async (req, reply) => {
    const body = checkBody.parse(optionalBody(req.body));
    const verdict = await rate(req);
    if (!verdict.isAllowed && verdict.isExceeded) {
      void reply.header('retry-after', String(verdict.ttlInSeconds));
      throw new HttpError(429, 'rate_limited', `at most ${limit.max} connectivity checks per window`);
    }
    const systems = body.systems;
    const targets = systems
      ? settings.connectivityTargets.filter((t) => systems.includes(t.system))
      : settings.connectivityTargets;
    const workflowId = `connectivity-check:${randomUUID()}`;
    const handle = await client.workflow.start<typeof connectivityCheck>('connectivityCheck', {
      workflowId,
      taskQueue: settings.workflowQueue,
      args: [{ targets }],
    });
    return reply
      .code(202)
      .send({ workflowId, runId: handle.firstExecutionRunId, statusUrl: statusUrl(workflowId) });
  });
}
