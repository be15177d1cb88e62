/**
 * Creates the namespace and the project's search attributes on a Temporal cluster (idempotent). Used by
 * scripts/cluster.sh; works against any self-hosted cluster:
 *   npx tsx scripts/cluster-namespace.ts --address host:7233 --namespace default [--retention 72h]
 */
import { Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { ensureNamespace, parseRetention } from '../src/dev/temporal-namespace';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string', default: '127.0.0.1:7233' },
      namespace: { type: 'string', default: 'default' },
      retention: { type: 'string', default: '72h' },
    },
  });
  const retentionSeconds = parseRetention(values.retention);
  const connection = await Connection.connect({ address: values.address, connectTimeout: 5_000 });
  try {
    const result = await ensureNamespace(connection, {
      namespace: values.namespace,
      retentionSeconds,
      searchAttributes: allSearchAttributes,
    });
    console.log(
      `namespace ${values.namespace} ${result.namespaceCreated ? 'created' : 'exists'}; search attributes ` +
        (result.attributesAdded.length > 0
          ? `added: ${result.attributesAdded.join(', ')}`
          : `all ${allSearchAttributes.length} present`),
    );
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  const cause = (err as { cause?: unknown }).cause;
  console.error(`${(err as Error).message}${cause instanceof Error ? `: ${cause.message}` : ''}`);
  process.exit(1);
});
