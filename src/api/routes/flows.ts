import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hasScope } from '../../security/access-keys';
import { startableFlow, startFlow, StartError } from '../../runs/start';
import type { StartRefusal, StartRequest } from '../../runs/start';
import type { StartContext } from '../../runs/start-specs';
import { HttpError } from '../errors';
import { safeText } from '../params';
import { statusUrl } from '../run-view';

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** The caller's `Idempotency-Key` header: 1-255 visible ASCII characters, or absent. */
export function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key))) {
    throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters');
  }
  return key;
}

const refusalStatus: Record<StartRefusal, number> = {
  unknown_type: 404,
  not_startable: 409,
  invalid_request: 400,
  idempotency_key_reused: 422,
  conflict: 409,
};

/** A refused start as the HTTP answer every start route gives. */
function httpErrorOf(err: StartError): HttpError {
  const details = err.details as { workflowId?: string } | undefined;
  return new HttpError(
    refusalStatus[err.code],
    err.code === 'unknown_type' ? 'not_found' : err.code,
    err.message,
    details && !Array.isArray(details) && details.workflowId
      ? { ...details, statusUrl: statusUrl(details.workflowId) }
      : details,
  );
}

/**
 * Starts a run through the flows registry (src/runs/start.ts) and answers as every start route does:
 * 202 with the new run, 200 with the run an identical earlier request started, or the refusal.
 */
export async function answerStart(
  reply: FastifyReply,
  client: Client,
  context: StartContext,
  type: string,
  request: StartRequest,
) {
  try {
    const run = await startFlow(client, context, type, request);
    const links = { workflowId: run.workflowId, runId: run.runId, statusUrl: statusUrl(run.workflowId) };
    if (run.existing) return reply.code(200).send({ ...links, status: run.status, existing: true });
    return reply.code(202).send(links);
  } catch (err) {
    throw err instanceof StartError ? httpErrorOf(err) : err;
  }
}

const flowParams = z.object({ type: safeText(64) }).strict();

/** The scope starting `type` needs besides the route's `flows:start`, if it is a startable flow. */
function flowScope(type: unknown) {
  try {
    return typeof type === 'string' ? startableFlow(type).scope : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `POST /v1/flows/{type}/runs`: starts a run of any flow callers may start, with the flow's input as
 * the body (src/runs/start-specs.ts says which flows, their schemas and ids); 404 for an unknown type,
 * 409 with the reason for a flow callers do not start. Needs `flows:start`, and the flow's own scope
 * where it names another (`runs:operate`: reconciliations, notifications; those starts are audited
 * like every operate action, refused ones included).
 */
export function registerFlowRoutes(app: FastifyInstance, client: Client, context: StartContext): void {
  app.post(
    '/v1/flows/:type/runs',
    {
      onResponse: async (req, reply) => {
        const { type } = (req.params ?? {}) as { type?: unknown };
        if (flowScope(type) !== 'runs:operate') return;
        req.log.info(
          {
            audit: 'api.operate',
            keyId: req.accessKey?.id ?? null,
            method: req.method,
            route: req.routeOptions.url,
            target: type,
            statusCode: reply.statusCode,
          },
          `audit: ${req.method} ${req.routeOptions.url} (${String(type)}) -> ${reply.statusCode}`,
        );
      },
    },
    async (req, reply) => {
      const { type } = flowParams.parse(req.params);
      const idempotencyKey = idempotencyKeyOf(req);
      const scope = flowScope(type);
      if (scope && req.accessKey && !hasScope(req.accessKey, scope)) {
        throw new HttpError(
          403,
          'forbidden',
          `key "${req.accessKey.id}" does not hold the ${scope} scope that starting ${type} needs`,
        );
      }
      return answerStart(reply, client, context, type, { body: req.body, idempotencyKey });
    },
  );
}
