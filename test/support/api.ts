import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import type { ApiSettings } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { configuredSyncs } from '../../src/schedules/specs';
import { connectTemporal, waitFor } from './temporal';
import type { TemporalTestContext } from './temporal';

export const testApiToken = 'test-token-0123456789abcdef';

/** The real API app on an ephemeral loopback port, called over HTTP by the tests. */
export async function startApi(
  client: Client,
  settings: Partial<ApiSettings> & { taskQueuePrefix: string; loggerInstance?: FastifyBaseLogger },
) {
  const { loggerInstance, ...rest } = settings;
  const app: FastifyInstance = await createApp({
    temporalClient: client,
    ...(loggerInstance ? { loggerInstance } : {}),
    settings: {
      apiToken: testApiToken,
      temporalUiUrl: 'http://127.0.0.1:8233',
      connectivityTargets: [],
      ...rest,
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${testApiToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return { app, baseUrl, call, close: () => app.close() };
}

type StartedApi = Awaited<ReturnType<typeof startApi>>;

export interface DocumentedApi<Doc> {
  t: TemporalTestContext;
  api: StartedApi;
  /** The API's own `GET /openapi.json`. */
  doc: Doc;
  close(): Promise<void>;
}

/**
 * A Temporal connection and the API with the default configuration's syncs and report (every route the
 * document can describe), no workers, and the OpenAPI document it serves: for the tests that hold the
 * document against the API's answers.
 */
export async function startDocumentedApi<Doc>(
  settings: Parameters<typeof startApi>[1],
): Promise<DocumentedApi<Doc>> {
  const t = await connectTemporal();
  let api: StartedApi | undefined;
  try {
    const config = loadConfig({});
    api = await startApi(t.client, { syncs: configuredSyncs(config), reportConfig: config, ...settings });
    const doc = (await api.call('GET', '/openapi.json')).body as Doc;
    const started = api;
    return {
      t,
      api,
      doc,
      close: async () => {
        await started.close();
        await t.close();
      },
    };
  } catch (err) {
    await api?.close();
    await t.close();
    throw err;
  }
}

type ApiCaller = { call: (method: string, path: string) => Promise<{ status: number; body: any }> };

/** The run's status answer once it is no longer RUNNING. */
export function settleRun(api: ApiCaller, statusUrl: string) {
  return waitFor(`${statusUrl} to close`, async () => {
    const res = await api.call('GET', statusUrl);
    return res.body.status !== 'RUNNING' ? res : undefined;
  });
}
