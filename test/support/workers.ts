import type { WorkerActivities, WorkerSet, WorkerSetOptions } from '../../src/workers/worker-set';
import { createWorkerSet } from '../../src/workers/worker-set';
import { systemQueues } from '../../src/workflows/shared/task-queues';
import type { TemporalTestContext } from './temporal';
import { workflowBundle } from './temporal';

export interface RunningWorkers {
  set: WorkerSet;
  running: Promise<void>;
  /** Shuts the workers down and waits until they have drained. */
  stop(): Promise<void>;
}

export interface TestWorkerOptions {
  /** The test's own task-queue prefix. */
  prefix: string;
  activities: WorkerActivities;
  identity?: string;
  /** Worker plugins (e.g. tracing) and a bundle built with them; the file's shared bundle otherwise. */
  plugins?: WorkerSetOptions['plugins'];
  workflowBundle?: WorkerSetOptions['workflowBundle'];
}

/** The coordinator's real worker set on the test's queues, with the file's shared workflow bundle. */
export async function startWorkers(
  t: TemporalTestContext,
  options: TestWorkerOptions,
): Promise<RunningWorkers> {
  const set = await createWorkerSet({
    connection: t.nativeConnection,
    dataConverter: t.dataConverter,
    namespace: t.namespace,
    taskQueuePrefix: options.prefix,
    activities: options.activities,
    workflowBundle: options.workflowBundle ?? (await workflowBundle()),
    identity: options.identity,
    plugins: options.plugins,
    // Hosts every system's activities on the workflow queue too, for runs routed there (rate limit 0).
    workflowQueueSystems: systemQueues,
  });
  const running = set.run();
  return {
    set,
    running,
    stop: async () => {
      set.shutdown();
      await running;
    },
  };
}

/** Runs `body` while workers poll the test's queues, and stops them afterwards whatever happened. */
export async function withWorkers<T>(
  t: TemporalTestContext,
  options: TestWorkerOptions,
  body: (workers: RunningWorkers) => Promise<T>,
): Promise<T> {
  const workers = await startWorkers(t, options);
  try {
    return await body(workers);
  } finally {
    await workers.stop();
  }
}
