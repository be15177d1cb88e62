import type { Connection } from '@temporalio/client';

/** The worker's start-up verdict on its namespace: a worker on a missing namespace would only log retries. */
export class NamespaceMissingError extends Error {
  constructor(namespace: string, address: string) {
    super(
      `namespace "${namespace}" does not exist on the Temporal server at ${address}. Create it ` +
        `(self-hosted: temporal operator namespace create --namespace ${namespace} --address ${address}; ` +
        'local cluster: npm run cluster:start) or point TEMPORAL_NAMESPACE at an existing one',
    );
    this.name = 'NamespaceMissingError';
  }
}

/** Asks the server for the namespace once, before any worker is created. */
export async function assertNamespaceExists(
  connection: Connection,
  namespace: string,
  address: string,
): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    // gRPC NOT_FOUND (5); anything else (permissions on Cloud, network) is reported as it is.
    if ((err as { code?: unknown }).code === 5) throw new NamespaceMissingError(namespace, address);
    throw err;
  }
}
