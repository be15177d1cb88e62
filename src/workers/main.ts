import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit } from '../config';
import { workerMetricsTelemetry } from '../observability/worker-telemetry';
import { buildActivities, queueTuning } from './dependencies';
import { assertNamespaceExists, NamespaceMissingError } from './namespace-check';
import { createWorkerSet } from './worker-set';
import { applySyncSchedules } from '../schedules/apply';
import { configuredSyncs } from '../schedules/specs';

/** Composition root of the worker process: config, runtime, connection, workers, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  Runtime.install({
    logger: new DefaultLogger(config.LOG_LEVEL),
    telemetryOptions: config.METRICS_PORT
      ? { metrics: workerMetricsTelemetry(`${config.METRICS_HOST}:${config.METRICS_PORT}`) }
      : undefined,
    // Ctrl-C / SIGTERM drain the workers: running activities get shutdownGraceTime to finish.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const clientConnection = await Connection.connect(config.temporal.connectionOptions);
  const address = config.temporal.connectionOptions.address ?? '127.0.0.1:7233';
  await assertNamespaceExists(clientConnection, config.temporal.namespace, address);
  const temporalClient = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const activities = buildActivities(config, { temporalClient });
  const set = await createWorkerSet({
    connection,
    namespace: config.temporal.namespace,
    taskQueuePrefix: config.TASK_QUEUE_PREFIX,
    activities,
    tuning: queueTuning(config),
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_MS,
    ...(config.WORKER_DEPLOYMENT_NAME && config.WORKER_BUILD_ID
      ? { deployment: { deploymentName: config.WORKER_DEPLOYMENT_NAME, buildId: config.WORKER_BUILD_ID } }
      : {}),
  });
  console.log(
    `worker: polling ${set.workers.map((w) => w.options.taskQueue).join(', ')} in namespace ${config.temporal.namespace}` +
      (config.WORKER_BUILD_ID ? ` as ${config.WORKER_DEPLOYMENT_NAME}.${config.WORKER_BUILD_ID}` : ''),
  );
  if (config.SYNC_SCHEDULES_APPLY) {
    const applied = await applySyncSchedules(
      temporalClient,
      configuredSyncs(config),
      config.TASK_QUEUE_PREFIX,
    );
    console.log(
      `worker: sync schedules created ${applied.created.join(', ') || 'none'}, updated ${applied.updated.join(', ') || 'none'}`,
    );
  }
  await set.run();
  await connection.close();
  await clientConnection.close();
  console.log('worker: stopped');
}

main().catch((err: unknown) => {
  if (err instanceof NamespaceMissingError) console.error(`worker: ${err.message}`);
  else console.error('worker: failed', err);
  process.exit(1);
});
