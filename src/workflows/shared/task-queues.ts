/**
 * Task-queue names. Workflows run on `<prefix>.coordinator`; every external system has its own activity
 * queue (`<prefix>.salesforce`, ...) so the server enforces that system's rate limit across all workers
 * and one slow system cannot starve the others. A workflow derives its activity queues from its own
 * queue's prefix, so a test (or a second deployment) with another prefix is fully isolated.
 */
import { activitySystems } from '../../systems/catalog';
import type { ActivitySystem } from '../../systems/catalog';

/** The coordinator's own activities (alerts, lookups of other runs, sync state): not an external system. */
export const opsQueue = 'ops';
/** Every activity queue: one per system with activities (src/systems/catalog.ts), and `ops`. */
export const systemQueues: readonly SystemQueue[] = [...activitySystems, opsQueue];
export type SystemQueue = ActivitySystem | typeof opsQueue;
export const coordinatorQueue = 'coordinator';

export function taskQueueName(prefix: string, queue: SystemQueue | typeof coordinatorQueue): string {
  return `${prefix}.${queue}`;
}

/** The activity queue of `system` that belongs with the given workflow task queue. */
export function activityQueueFor(workflowTaskQueue: string, system: SystemQueue): string {
  const dot = workflowTaskQueue.lastIndexOf('.');
  const prefix = dot === -1 ? workflowTaskQueue : workflowTaskQueue.slice(0, dot);
  return taskQueueName(prefix, system);
}

/**
 * Where a run sends a system's activities. `own-queue` (the default): the system's task queue, where
 * the server enforces the system's rate limit across all workers. `workflow-queue`: the workflow's own
 * queue, for a system without a binding rate limit: the server hands each activity to the worker in the
 * answer to the workflow task that scheduled it (eager dispatch), and read-only lookups run as local
 * activities inside the workflow task. Neither passes through the system's queue, so neither is rate
 * limited: only systems whose limit is switched off are routed there (see activityRoutes()).
 */
export type ActivityRoute = 'own-queue' | 'workflow-queue';
export type ActivityRoutes = Partial<Record<ActivitySystem, ActivityRoute>>;
