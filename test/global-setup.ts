import type {} from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { ensureNamespace } from '../src/dev/temporal-namespace';
import { projectDataConverter } from '../src/security/data-converter';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
  }
}

/**
 * One real Temporal dev server for the whole run (the same binary `npm start` uses), shared by every
 * test file through `inject('temporalAddress')`. Each test owns its task queue and workflow ids.
 * INTEGRATION_SKIP_TEMPORAL=1 skips it for suites that need no Temporal (the simulators').
 *
 * TEMPORAL_TEST_ADDRESS=host:port (and TEMPORAL_TEST_NAMESPACE, default `default`) runs the suite
 * against an existing server instead, e.g. the PostgreSQL cluster of `npm run cluster:start`: the
 * namespace and the search attributes are registered there first (idempotent).
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.INTEGRATION_SKIP_TEMPORAL === '1') return undefined;
  const external = process.env.TEMPORAL_TEST_ADDRESS;
  if (external) {
    const namespace = process.env.TEMPORAL_TEST_NAMESPACE || 'default';
    await prepareExistingServer(external, namespace);
    project.provide('temporalAddress', external);
    project.provide('temporalNamespace', namespace);
    return undefined;
  }
  // The CLI found or built by scripts/temporal-cli.sh (a first build prints its progress), or else the
  // SDK's own download of the dev server, which needs internet access.
  const executable = resolveTemporalExecutable();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      searchAttributes: [...allSearchAttributes],
      log: { format: 'pretty', level: 'error' },
    },
    client: { dataConverter: projectDataConverter(loadConfig({}).payloadKeyring) },
  }).catch((err: unknown) => {
    throw new Error(
      `no Temporal dev server for the tests: ${(err as Error).message}. Install the Temporal CLI ` +
        '(https://docs.temporal.io/cli#install) or Go (scripts/temporal-cli.sh builds it), then run npm test again',
    );
  });
  project.provide('temporalAddress', env.address);
  project.provide('temporalNamespace', env.namespace ?? 'default');
  return async () => {
    await env.teardown();
  };
}

async function prepareExistingServer(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 }).catch((err: unknown) => {
    throw new Error(
      `TEMPORAL_TEST_ADDRESS=${address}: no Temporal server answers there (${(err as Error).message})`,
    );
  });
  try {
    await ensureNamespace(connection, { namespace, searchAttributes: allSearchAttributes });
  } finally {
    await connection.close();
  }
}
