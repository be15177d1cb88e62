import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { DataConverter } from '@temporalio/common';
import { loadConfig } from '../../src/config';
import { projectDataConverter } from '../../src/security/data-converter';
import { bundleWorkflows } from '../../src/workers/worker-set';

/**
 * The tests' data converter: the project's codec with the default (development) keyring, exactly as
 * `npm start` runs; every test client and worker uses it.
 */
export const testDataConverter: DataConverter = projectDataConverter(loadConfig({}).payloadKeyring);

export interface TemporalTestContext {
  client: Client;
  nativeConnection: NativeConnection;
  namespace: string;
  /** Pass to every worker the test creates (`createWorkerSet({ dataConverter })`). */
  dataConverter: DataConverter;
  close(): Promise<void>;
}

/** Connects to the run's shared dev server (started once in test/global-setup.ts). */
export async function connectTemporal(): Promise<TemporalTestContext> {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace, dataConverter: testDataConverter });
  return {
    client,
    nativeConnection,
    namespace,
    dataConverter: testDataConverter,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundles the workflows once per test file (about a second) instead of once per worker. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows();
  return bundle;
}

/** A task-queue prefix (and id prefix) no other test uses. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}

/** Waits for a condition by polling it; fails with `what` when the deadline passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The ids of the workflows visibility lists on `taskQueue`, narrowed by a further clause `and` if given. */
export async function workflowIdsOn(client: Client, taskQueue: string, and = ''): Promise<string[]> {
  const ids: string[] = [];
  const query = `TaskQueue = '${taskQueue}'${and ? ` AND ${and}` : ''}`;
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}
