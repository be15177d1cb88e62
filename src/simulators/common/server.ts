import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { FaultConfigError, FaultInjector } from './faults';
import type { FaultDecision, FaultRuleInput, LatencyConfig } from './faults';
import { RequestLog } from './request-log';

export interface SimulatorListenOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  host?: string;
}

export interface RunningSimulator {
  name: string;
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** What every simulator offers its admin surface and its tests. */
export interface SimulatorCore {
  readonly name: string;
  readonly app: FastifyInstance;
  readonly faults: FaultInjector;
  readonly requests: RequestLog;
}

export interface AdminHooks {
  reset(): void;
  records(query: Record<string, string | undefined>): unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    simOperation?: string;
    simFault?: string;
  }
}

/**
 * Builds a Fastify app with the parts every simulator shares: the request log, the `/__admin/` surface
 * (reset, records, requests, faults) and quiet logging. The simulator adds its protocol routes.
 */
export function createSimulatorApp(name: string, faultKinds: readonly string[]): SimulatorCore {
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  const faults = new FaultInjector(faultKinds);
  const requests = new RequestLog();

  app.decorateRequest('simOperation', undefined);
  app.decorateRequest('simFault', undefined);
  app.addHook('onResponse', (req, reply, done) => {
    if (!req.url.startsWith('/__admin')) {
      requests.add({
        at: new Date().toISOString(),
        method: req.method,
        path: req.url.split('?')[0] ?? req.url,
        operation: req.simOperation,
        status: reply.statusCode,
        fault: req.simFault,
        durationMs: Math.round(reply.elapsedTime),
      });
    }
    done();
  });
  return { name, app, faults, requests };
}

export function registerAdminRoutes(core: SimulatorCore, hooks: AdminHooks): void {
  const { app, faults, requests } = core;
  const badRequest = (reply: FastifyReply, err: unknown) => {
    if (err instanceof FaultConfigError) return reply.code(400).send({ error: err.message });
    throw err;
  };

  app.post('/__admin/reset', async () => {
    hooks.reset();
    faults.reset();
    requests.clear();
    return { reset: true };
  });
  app.get('/__admin/records', async (req) => hooks.records(req.query as Record<string, string | undefined>));
  app.get('/__admin/requests', async (req) => {
    const q = req.query as { operation?: string; path?: string; sinceSeq?: string };
    return requests.list({
      operation: q.operation,
      path: q.path,
      sinceSeq: q.sinceSeq === undefined ? undefined : Number(q.sinceSeq),
    });
  });
  app.get('/__admin/faults', async () => ({ kinds: faults.kinds(), ...faults.state() }));
  app.put('/__admin/faults', async (req, reply) => {
    try {
      return faults.configure(req.body ?? {});
    } catch (err) {
      return badRequest(reply, err);
    }
  });
  app.post('/__admin/faults/rules', async (req, reply) => {
    try {
      return reply.code(201).send(faults.addRule(req.body as FaultRuleInput));
    } catch (err) {
      return badRequest(reply, err);
    }
  });
  app.delete('/__admin/faults/rules/:id', async (req, reply) => {
    const removed = faults.removeRule((req.params as { id: string }).id);
    return reply.code(removed ? 204 : 404).send();
  });
  app.put('/__admin/faults/latency', async (req, reply) => {
    try {
      faults.setLatency(req.body as Partial<LatencyConfig>);
      return faults.state();
    } catch (err) {
      return badRequest(reply, err);
    }
  });
  app.put('/__admin/faults/outage', async (req) => {
    faults.setOutage(Boolean((req.body as { on?: boolean } | undefined)?.on));
    return faults.state();
  });
  app.delete('/__admin/faults', async () => {
    faults.reset();
    return faults.state();
  });
}

/**
 * Applies the fault model to one request: waits the configured latency, drops the connection during an
 * outage, and returns the rule to render (or undefined). Returns `'handled'` when the reply was consumed.
 */
export async function applyFaults(
  core: SimulatorCore,
  req: FastifyRequest,
  reply: FastifyReply,
  operation?: string,
): Promise<FaultDecision | 'handled'> {
  req.simOperation = operation;
  const decision = core.faults.decide({
    method: req.method,
    path: req.url.split('?')[0] ?? req.url,
    operation,
    body: () =>
      typeof req.body === 'string'
        ? req.body
        : Buffer.isBuffer(req.body)
          ? req.body.toString('utf8')
          : req.body === undefined
            ? ''
            : JSON.stringify(req.body),
  });
  if (decision.delayMs > 0) await new Promise((r) => setTimeout(r, decision.delayMs));
  if (decision.outage) {
    req.simFault = 'outage';
    // A system that is down does not answer: the client sees a reset connection.
    reply.hijack();
    req.raw.socket.destroy();
    return 'handled';
  }
  if (decision.rule) req.simFault = decision.rule.kind;
  if (decision.rule?.kind === 'timeout') {
    // Answer only after the client has given up: the response arrives too late to be read.
    const waitMs = Number(decision.rule.params?.delayMs ?? 60_000);
    await new Promise((r) => setTimeout(r, waitMs));
    return { ...decision, rule: undefined };
  }
  return decision;
}

export async function listen(
  core: SimulatorCore,
  options: SimulatorListenOptions = {},
): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  try {
    await core.app.listen({ port: options.port ?? 0, host });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`${core.name} simulator: port ${options.port} on ${host} is already in use`);
    }
    throw err;
  }
  const address = core.app.server.address() as AddressInfo;
  return {
    name: core.name,
    url: `http://${host}:${address.port}`,
    port: address.port,
    stop: async () => {
      core.app.server.closeAllConnections();
      await core.app.close();
    },
  };
}
