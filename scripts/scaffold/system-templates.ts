/**
 * The files `npm run new:system <name>` writes: a JSON REST system with an API key, spoken through axios,
 * with records upserted by id (idempotent, so Temporal may retry) and deleted as the undo. Every file is
 * a working starting point: it compiles, and the generated test passes against the generated simulator.
 */
export interface SystemNames {
  /** `crm`: the catalog key, folder and queue name. */
  name: string;
  /** `Crm`: type and function names. */
  pascal: string;
  /** `CRM`: environment variable prefix. */
  upper: string;
  port: number;
}

export function systemClient({ pascal, name }: SystemNames): string {
  return `import axios from 'axios';
import type { AxiosInstance } from 'axios';

/** Connection settings of the ${name} client, passed in by the worker (never read from the environment here). */
export interface ${pascal}ClientConfig {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
}

export interface ${pascal}Record {
  id: string;
  name: string;
  version: number;
  updatedAt: string;
}

/** A thin typed wrapper over the ${name} JSON REST API: authentication and timeouts, nothing else. */
export class ${pascal}Client {
  private readonly http: AxiosInstance;

  constructor(config: ${pascal}ClientConfig) {
    this.http = axios.create({
      baseURL: config.baseUrl,
      timeout: config.timeoutMs,
      headers: { 'x-api-key': config.apiKey },
    });
  }

  /** Creates or replaces the record with this id (idempotent: a retry writes the same record again). */
  async upsertRecord(id: string, fields: { name: string }): Promise<{ record: ${pascal}Record; created: boolean }> {
    const res = await this.http.put<${pascal}Record>(\`/v1/records/\${encodeURIComponent(id)}\`, fields);
    return { record: res.data, created: res.status === 201 };
  }

  async getRecord(id: string): Promise<${pascal}Record | undefined> {
    const res = await this.http.get<${pascal}Record>(\`/v1/records/\${encodeURIComponent(id)}\`, {
      validateStatus: (s) => s === 200 || s === 404,
    });
    return res.status === 404 ? undefined : res.data;
  }

  /** Deletes the record; false when it was already gone (an undo that runs twice is still done). */
  async deleteRecord(id: string): Promise<boolean> {
    const res = await this.http.delete(\`/v1/records/\${encodeURIComponent(id)}\`, {
      validateStatus: (s) => s === 204 || s === 404,
    });
    return res.status === 204;
  }
}
`;
}

export function systemErrors({ pascal, name }: SystemNames): string {
  return `import { ApplicationFailure } from '@temporalio/common';
import { isAxiosError } from 'axios';
import { ErrorType } from '../../domain/error-types';

/**
 * Turns what the ${name} client threw into an ApplicationFailure with a stable type:
 * - no answer (refused, reset) and 5xx: retryable \`SystemUnavailable\`; a client timeout: retryable \`Timeout\`;
 * - 429: retryable \`RateLimited\`, after the \`Retry-After\` the system asks for;
 * - 401 / 403: \`${pascal}AuthFailed\`, final (a wrong key does not fix itself);
 * - any other 4xx: \`${pascal}Rejected\`, final, with the system's reasons in the details.
 */
export function classify${pascal}Error(err: unknown, action: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const message = \`${name} \${action} failed: \${(err as Error)?.message ?? String(err)}\`;
  if (!isAxiosError(err) || !err.response) {
    const timedOut = isAxiosError(err) && err.code === 'ECONNABORTED';
    return ApplicationFailure.create({ type: timedOut ? ErrorType.Timeout : ErrorType.SystemUnavailable, message });
  }
  const { status, headers } = err.response;
  const details = [{ status, body: err.response.data as unknown }];
  if (status === 429) {
    const seconds = Number(headers['retry-after']);
    return ApplicationFailure.create({
      type: ErrorType.RateLimited,
      message,
      details,
      ...(Number.isInteger(seconds) && seconds >= 0 ? { nextRetryDelay: \`\${seconds}s\` } : {}),
    });
  }
  if (status >= 500) return ApplicationFailure.create({ type: ErrorType.SystemUnavailable, message, details });
  if (status === 401 || status === 403) {
    return ApplicationFailure.create({ type: ErrorType.${pascal}AuthFailed, nonRetryable: true, message, details });
  }
  return ApplicationFailure.create({ type: ErrorType.${pascal}Rejected, nonRetryable: true, message, details });
}
`;
}

export function systemActivities({ pascal, name }: SystemNames): string {
  return `import type { ${pascal}Client } from './client';
import { classify${pascal}Error } from './errors';

export interface ${pascal}Deps {
  client: ${pascal}Client;
}

/** The ${name} activities: one object in, one object out; each safe to retry. */
export function create${pascal}Activities({ client }: ${pascal}Deps) {
  return {
    /** Writes the record under the caller's id (a business key), so a retried attempt writes it again. */
    async upsert${pascal}Record(input: { id: string; name: string }): Promise<{ id: string; created: boolean; version: number }> {
      try {
        const { record, created } = await client.upsertRecord(input.id, { name: input.name });
        return { id: record.id, created, version: record.version };
      } catch (err) {
        throw classify${pascal}Error(err, 'upsert');
      }
    },
    /** The undo of an upsert that created the record; "already gone" counts as done. */
    async delete${pascal}Record(input: { id: string }): Promise<{ deleted: boolean }> {
      try {
        return { deleted: await client.deleteRecord(input.id) };
      } catch (err) {
        throw classify${pascal}Error(err, 'delete');
      }
    },
  };
}

export type ${pascal}Activities = ReturnType<typeof create${pascal}Activities>;
`;
}

export function systemSimulator({ pascal, name, upper, port }: SystemNames): string {
  return `import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyFaults, createSimulatorApp, listen, registerAdminRoutes } from '../common/server';
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';

/**
 * A simulator of the ${name} JSON REST API: records by id behind an \`x-api-key\`, \`PUT\` creates (201) or
 * replaces (200) and bumps the version, \`DELETE\` answers 204 or 404, errors as \`{ error, message }\`.
 * Written from the system's API documentation; it shares no code with the coordinator.
 */
export const ${upper}_DEFAULT_PORT = ${port};
export const DEV_${upper}_API_KEY = 'dev-${name}-key';
export const ${upper}_FAULT_KINDS = ['server-error', 'rate-limit', 'timeout'] as const;

export interface ${pascal}SimulatorOptions {
  apiKeys?: string[];
}

export interface Simulated${pascal}Record {
  id: string;
  name: string;
  version: number;
  updatedAt: string;
}

export interface ${pascal}Simulator {
  readonly name: '${name}';
  readonly core: SimulatorCore;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  record(id: string): Simulated${pascal}Record | undefined;
  records(): Simulated${pascal}Record[];
  reset(): void;
}

export function create${pascal}Simulator(options: ${pascal}SimulatorOptions = {}): ${pascal}Simulator {
  const core = createSimulatorApp('${name}', ${upper}_FAULT_KINDS);
  const apiKeys = new Set(options.apiKeys ?? [DEV_${upper}_API_KEY]);
  let records = new Map<string, Simulated${pascal}Record>();

  /** Faults first (a gateway fails before auth), then the key. */
  const guard = async (req: FastifyRequest, reply: FastifyReply, operation: string): Promise<boolean> => {
    const decision = await applyFaults(core, req, reply, operation);
    if (decision === 'handled') return false;
    if (decision.rule?.kind === 'server-error') {
      await reply.code(500).send({ error: 'internal_error', message: 'injected server error' });
      return false;
    }
    if (decision.rule?.kind === 'rate-limit') {
      const seconds = Number(decision.rule.params?.retryAfterSeconds ?? 1);
      await reply.code(429).header('retry-after', String(seconds)).send({ error: 'rate_limited', message: 'slow down' });
      return false;
    }
    if (req.simFault === 'timeout') {
      await reply.code(504).send({ error: 'gateway_timeout', message: 'upstream timed out' });
      return false;
    }
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !apiKeys.has(key)) {
      await reply.code(401).send({
        error: 'unauthorized',
        message: key === undefined ? 'missing x-api-key header' : 'invalid API key',
      });
      return false;
    }
    return true;
  };

  const { app } = core;
  app.get('/v1/records/:id', async (req, reply) => {
    if (!(await guard(req, reply, 'getRecord'))) return reply;
    const record = records.get((req.params as { id: string }).id);
    return record ? record : reply.code(404).send({ error: 'not_found', message: 'no such record' });
  });
  app.put('/v1/records/:id', async (req, reply) => {
    if (!(await guard(req, reply, 'putRecord'))) return reply;
    const id = (req.params as { id: string }).id;
    const body = (req.body ?? {}) as { name?: unknown };
    if (typeof body.name !== 'string' || body.name.length === 0 || body.name.length > 120) {
      return reply.code(400).send({ error: 'bad_request', message: 'name must be a string of 1-120 characters' });
    }
    const existing = records.get(id);
    const record = { id, name: body.name, version: (existing?.version ?? 0) + 1, updatedAt: new Date().toISOString() };
    records.set(id, record);
    return reply.code(existing ? 200 : 201).send(record);
  });
  app.delete('/v1/records/:id', async (req, reply) => {
    if (!(await guard(req, reply, 'deleteRecord'))) return reply;
    const existed = records.delete((req.params as { id: string }).id);
    return existed ? reply.code(204).send() : reply.code(404).send({ error: 'not_found', message: 'no such record' });
  });

  const reset = () => {
    records = new Map();
  };
  registerAdminRoutes(core, { reset, records: () => [...records.values()] });

  return {
    name: '${name}',
    core,
    start: (opts = {}) => listen(core, { port: opts.port ?? ${upper}_DEFAULT_PORT, host: opts.host }),
    record: (id) => records.get(id),
    records: () => [...records.values()],
    reset,
  };
}
`;
}

export function systemTest({ pascal, name, upper }: SystemNames): string {
  return `import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create${pascal}Activities } from '../../src/activities/${name}/activities';
import { ${pascal}Client } from '../../src/activities/${name}/client';
import { create${pascal}Simulator, DEV_${upper}_API_KEY } from '../../src/simulators/${name}';
import type { RunningSimulator } from '../../src/simulators';

describe('${name} activities through the real client against the ${name} simulator', () => {
  const sim = create${pascal}Simulator();
  let running: RunningSimulator;
  const activities = (apiKey = DEV_${upper}_API_KEY) =>
    create${pascal}Activities({ client: new ${pascal}Client({ baseUrl: running.url, apiKey, timeoutMs: 3_000 }) });

  beforeAll(async () => {
    running = await sim.start({ port: 0 });
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('an upsert creates the record once; repeating it (a retry) replaces it, never duplicates it', async () => {
    const first = await activities().upsert${pascal}Record({ id: 'ref-1', name: 'First' });
    const again = await activities().upsert${pascal}Record({ id: 'ref-1', name: 'First' });
    expect(first).toEqual({ id: 'ref-1', created: true, version: 1 });
    expect(again).toEqual({ id: 'ref-1', created: false, version: 2 });
    expect(sim.records().filter((r) => r.id === 'ref-1')).toHaveLength(1);
  });

  it('the undo deletes the record and counts a record already gone as done', async () => {
    await activities().upsert${pascal}Record({ id: 'ref-2', name: 'Second' });
    expect(await activities().delete${pascal}Record({ id: 'ref-2' })).toEqual({ deleted: true });
    expect(sim.record('ref-2')).toBeUndefined();
    expect(await activities().delete${pascal}Record({ id: 'ref-2' })).toEqual({ deleted: false });
  });

  it('a wrong API key is a non-retryable ${pascal}AuthFailed', async () => {
    const err = await activities('wrong-key').upsert${pascal}Record({ id: 'ref-3', name: 'Third' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: '${pascal}AuthFailed', nonRetryable: true });
  });

  it('a rejected record is a non-retryable ${pascal}Rejected carrying the system answer', async () => {
    const err = await activities().upsert${pascal}Record({ id: 'ref-4', name: '' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: '${pascal}Rejected', nonRetryable: true });
    expect((err as ApplicationFailure).details?.[0]).toMatchObject({ status: 400 });
  });

  it('a server error is retryable, and a 429 is RateLimited after the Retry-After it names', async () => {
    sim.core.faults.failNext('server-error', 1, { operation: 'putRecord' });
    expect(await activities().upsert${pascal}Record({ id: 'ref-5', name: 'Fifth' }).catch((e: unknown) => e)).toMatchObject({
      type: 'SystemUnavailable',
      nonRetryable: false,
    });
    sim.core.faults.failNext('rate-limit', 1, { operation: 'putRecord' }, { retryAfterSeconds: 7 });
    expect(await activities().upsert${pascal}Record({ id: 'ref-5', name: 'Fifth' }).catch((e: unknown) => e)).toMatchObject({
      type: 'RateLimited',
      nextRetryDelay: '7s',
    });
    expect(await activities().upsert${pascal}Record({ id: 'ref-5', name: 'Fifth' })).toMatchObject({ created: true });
  });
});
`;
}

export function systemDoc({ pascal, name, upper, port }: SystemNames): string {
  return `# ${pascal} simulator

A JSON REST API with an API key, generated by \`npm run new:system ${name}\`: replace the example record
with the system's real resources, written from its API documentation.

- Code: \`src/simulators/${name}/index.ts\`; client, activities and error classification in
  \`src/activities/${name}/\`; tests in \`test/activities/${name}.test.ts\`.
- Port: ${port} (\`SIM_${upper}_PORT\`); the coordinator reaches it at \`${upper}_BASE_URL\`.
- Credentials: header \`x-api-key: dev-${name}-key\` (\`${upper}_API_KEY\`).

| endpoint | answer |
|---|---|
| \`PUT /v1/records/{id}\` \`{ "name": "..." }\` | 201 created or 200 replaced, the record with its \`version\`; 400 \`{ error, message }\` for a bad body |
| \`GET /v1/records/{id}\` | 200 the record, 404 |
| \`DELETE /v1/records/{id}\` | 204, 404 when already gone |
| any, without a valid key | 401 \`{ error: "unauthorized" }\` |

Admin: \`/__admin/reset\`, \`/__admin/records\`, \`/__admin/requests\`, \`/__admin/faults\`. Fault kinds:
\`server-error\` (500), \`rate-limit\` (429 with \`Retry-After\`, param \`retryAfterSeconds\`), \`timeout\`.
`;
}
