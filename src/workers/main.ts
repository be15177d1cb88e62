import { Client, Connection } from '@temporalio/client';
import { makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit } from '../config';
import { createLogger, temporalLogger } from '../observability/logging';
import { startTracing } from '../observability/tracing';
import { workerMetricsTelemetry } from '../observability/worker-telemetry';
import { projectDataConverter } from '../security/data-converter';
import { buildActivities, queueTuning } from './dependencies';
import { assertNamespaceExists, NamespaceMissingError } from './namespace-check';
import { createWorkerSet } from './worker-set';
import { bundleWorkflowsInChild } from './workflow-bundle';
import { sizeWorkflowThreadHeap } from './workflow-thread-heap';
import { applyMainThreadHeap } from './main-thread-heap';
import { applySyncSchedules, stuckRunSchedule } from '../schedules/apply';
import { configuredSyncs } from '../schedules/specs';
import { systemQueues } from '../workflows/shared/task-queues';

/** Composition root of the worker process: config, runtime, connection, workers, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Before any thread or connection: may restart the process with the main thread's heap flag.
  const heapWarning = applyMainThreadHeap(config.WORKER_MAIN_SEMI_SPACE_MB);
  // One JSON log format with the API; the SDK's logger (workflow, activity, worker and core
  // messages) writes into it. Tracing is off unless the OTEL_* variables switch it on.
  const logger = createLogger({ service: 'integration-worker', level: config.LOG_LEVEL });
  if (heapWarning) logger.warn(`worker: ${heapWarning}`);
  const tracing = startTracing({ serviceName: 'integration-worker', env: config });
  Runtime.install({
    logger: temporalLogger(logger, config.LOG_LEVEL),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(config.METRICS_PORT
        ? { metrics: workerMetricsTelemetry(`${config.METRICS_HOST}:${config.METRICS_PORT}`) }
        : {}),
    },
    // Ctrl-C / SIGTERM drain the workers: running activities get shutdownGraceTime to finish.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const plugins = tracing ? [tracing.plugin] : [];
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const clientConnection = await Connection.connect(config.temporal.connectionOptions);
  const address = config.temporal.connectionOptions.address ?? '127.0.0.1:7233';
  await assertNamespaceExists(clientConnection, config.temporal.namespace, address);
  const dataConverter = projectDataConverter(config.payloadKeyring);
  const temporalClient = new Client({
    connection: clientConnection,
    namespace: config.temporal.namespace,
    plugins,
    dataConverter,
  });
  const activities = buildActivities(config, { temporalClient });
  sizeWorkflowThreadHeap({
    oldSpaceMb: config.WORKER_WORKFLOW_HEAP_MB,
    semiSpaceMb: config.WORKER_WORKFLOW_SEMI_SPACE_MB,
  });
  // Bundled in a child process that exits afterwards: the bundler's memory does not stay with the
  // worker; the SDK reads the bundle from the file, so the main thread does not keep its source.
  const bundle = await bundleWorkflowsInChild({ tracing: Boolean(tracing), instrumentation: true });
  const set = await createWorkerSet({
    connection,
    namespace: config.temporal.namespace,
    taskQueuePrefix: config.TASK_QUEUE_PREFIX,
    dataConverter,
    activities,
    tuning: queueTuning(config),
    workflowQueueSystems: systemQueues,
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_MS,
    workflowTuning: { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS },
    workflowBundle: { codePath: bundle.codePath },
    ...(config.WORKER_DEPLOYMENT_NAME && config.WORKER_BUILD_ID
      ? { deployment: { deploymentName: config.WORKER_DEPLOYMENT_NAME, buildId: config.WORKER_BUILD_ID } }
      : {}),
    plugins,
  }).finally(() => bundle.remove());
  logger.info(
    {
      taskQueues: set.workers.map((w) => w.options.taskQueue),
      namespace: config.temporal.namespace,
      build: config.WORKER_BUILD_ID
        ? `${config.WORKER_DEPLOYMENT_NAME}.${config.WORKER_BUILD_ID}`
        : undefined,
      tracing: Boolean(tracing),
      metricsPort: config.METRICS_PORT,
    },
    'worker: polling',
  );
  if (config.SYNC_SCHEDULES_APPLY) {
    const applied = await applySyncSchedules(
      temporalClient,
      configuredSyncs(config),
      config.TASK_QUEUE_PREFIX,
      stuckRunSchedule(config),
    );
    console.log(
      `worker: sync schedules created ${applied.created.join(', ') || 'none'}, updated ${applied.updated.join(', ') || 'none'}`,
    );
  }
  await set.run();
  await connection.close();
  await clientConnection.close();
  await tracing?.shutdown();
  logger.info('worker: stopped');
  logger.flush();
}

main().catch((err: unknown) => {
  if (err instanceof NamespaceMissingError) console.error(`worker: ${err.message}`);
  else console.error('worker: failed', err);
  process.exit(1);
});
