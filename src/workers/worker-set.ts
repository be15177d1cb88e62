import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type {
  NativeConnection,
  WorkerPlugin,
  WorkflowBundleOption,
  WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { activityMetricsInterceptor } from '../observability/activity-metrics';
import type { DataConverter } from '@temporalio/common';
import { failureConverterPath } from '../security/data-converter';
import { keepAliveInterceptor } from './keep-alive';
import { coordinatorQueue, systemQueues, taskQueueName } from '../workflows/shared/task-queues';
import type { SystemQueue } from '../workflows/shared/task-queues';

// Point the bundler at the source file when running from TypeScript (tsx, vitest), at the build otherwise.
const workflowsDir = resolve(__dirname, '../workflows');
export const workflowsPath = existsSync(`${workflowsDir}/index.ts`)
  ? `${workflowsDir}/index.ts`
  : `${workflowsDir}/index.js`;
const observabilityDir = resolve(__dirname, '../observability');
/** Bundled with the workflows: flow metrics for every workflow type (replay-safe). */
export const workflowInterceptorModules = [
  existsSync(`${observabilityDir}/workflow-interceptors.ts`)
    ? `${observabilityDir}/workflow-interceptors.ts`
    : `${observabilityDir}/workflow-interceptors.js`,
];
/** Activity interceptors of every worker: external-call metrics. */
export const activityInterceptors = [activityMetricsInterceptor];

export interface QueueTuning {
  /** Server-side limit for the whole task queue, across every worker: the system's quota. */
  maxTaskQueueActivitiesPerSecond?: number;
  /** Concurrency of this process against the system (its connection pool). */
  maxConcurrentActivityTaskExecutions?: number;
}

export type WorkerActivities = Partial<Record<SystemQueue | 'local', object>>;

export interface WorkerSetOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueuePrefix: string;
  /** The project's data converter (src/security/data-converter.ts): encrypted payloads and failures. */
  dataConverter: DataConverter;
  /**
   * Activities per system queue (a queue with none gets no worker), and under `local` the ones the
   * workflows call as local activities: configuration-only lookups, run on the workflow worker.
   */
  activities: WorkerActivities;
  tuning?: Partial<Record<SystemQueue, QueueTuning>>;
  /** A pre-built bundle (tests build one per file, production may ship one); otherwise built here. */
  workflowBundle?: WorkflowBundleOption;
  shutdownGraceTime?: number;
  /** Tuning of the workflow worker (concurrency of workflow tasks, sticky cache size). */
  workflowTuning?: { maxConcurrentWorkflowTaskExecutions?: number; maxCachedWorkflows?: number };
  /** Worker identity shown in the Web UI per activity attempt (default: pid@host). */
  identity?: string;
  /**
   * Systems whose activities the workflow worker also hosts on the workflow queue, for runs that route
   * them there (`ActivityRoutes`: eager dispatch, lookups as local activities). The worker process
   * passes every system, so a run's routes always find their activities.
   */
  workflowQueueSystems?: readonly SystemQueue[];
  /** Host workflows too (default true); a deployment can run activity-only workers for one system. */
  runWorkflows?: boolean;
  /**
   * Worker Versioning: every worker of the set joins this Worker Deployment Version. Workflows default
   * to PINNED (a run stays on the build it started on; entity workflows move at continue-as-new).
   * Unset: unversioned workers (dev server, tests).
   */
  deployment?: WorkerDeploymentVersion;
  /**
   * Worker plugins (tracing: src/observability/tracing.ts). A pre-built `workflowBundle` must have been
   * built with the same plugins (`bundleWorkflows(plugins)`).
   */
  plugins?: WorkerPlugin[];
  /**
   * Business metrics and trace ids in logs (src/observability); default true. Off only to measure what
   * they cost (bench/instrumentation.ts); a pre-built bundle must match (`bundleWorkflows(plugins, false)`).
   */
  instrumentation?: boolean;
}

export interface WorkerSet {
  workers: Worker[];
  /** Runs every worker until all have shut down (on signal or `shutdown()`). */
  run(): Promise<void>;
  shutdown(): void;
}

export async function bundleWorkflows(
  plugins: WorkerPlugin[] = [],
  instrumentation = true,
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: instrumentation ? workflowInterceptorModules : [],
    // The failure converter runs inside the workflow sandbox, so it is part of the bundle.
    failureConverterPath,
    logger: quietBundlerLogger,
    ...(plugins.length ? { plugins } : {}),
  });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

/**
 * One process, one Worker per task queue: the coordinator queue hosts the workflows; each system queue
 * hosts only that system's activities, with its own server-side rate limit.
 */
export async function createWorkerSet(options: WorkerSetOptions): Promise<WorkerSet> {
  const { connection, namespace, taskQueuePrefix } = options;
  const workers: Worker[] = [];
  const common = {
    dataConverter: options.dataConverter,
    interceptors: {
      activity: [keepAliveInterceptor, ...(options.instrumentation === false ? [] : activityInterceptors)],
    },
    ...(options.plugins?.length ? { plugins: options.plugins } : {}),
    ...(options.shutdownGraceTime === undefined ? {} : { shutdownGraceTime: options.shutdownGraceTime }),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
    ...(options.deployment === undefined
      ? {}
      : {
          workerDeploymentOptions: {
            version: options.deployment,
            useWorkerVersioning: true as const,
            defaultVersioningBehavior: 'PINNED' as const,
          },
        }),
  };
  if (options.runWorkflows ?? true) {
    workers.push(
      await Worker.create({
        connection,
        namespace,
        taskQueue: taskQueueName(taskQueuePrefix, coordinatorQueue),
        workflowBundle:
          options.workflowBundle ?? (await bundleWorkflows(options.plugins, options.instrumentation ?? true)),
        ...workflowQueueActivities(options),
        ...definedOnly(options.workflowTuning ?? {}),
        ...common,
      }),
    );
  }
  for (const system of systemQueues) {
    const activities = options.activities[system];
    if (!activities) continue;
    const tuning = options.tuning?.[system] ?? {};
    workers.push(
      await Worker.create({
        connection,
        namespace,
        taskQueue: taskQueueName(taskQueuePrefix, system),
        activities,
        ...definedOnly(tuning),
        ...common,
      }),
    );
  }
  return {
    workers,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

/** What the workflow worker hosts as activities: the local-only lookups and the routed systems'. */
function workflowQueueActivities(options: WorkerSetOptions): { activities?: object } {
  const hosted = [
    options.activities.local,
    ...(options.workflowQueueSystems ?? []).map((system) => options.activities[system]),
  ].filter((a): a is object => a !== undefined);
  return hosted.length ? { activities: Object.assign({}, ...hosted) as object } : {};
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
