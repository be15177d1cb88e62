import type { Config } from '../config';
import { createOpsActivities } from '../activities';
import type { SystemQueue } from '../workflows/task-queues';
import type { QueueTuning } from './worker-set';

/** Builds each system's clients and activities from configuration (the worker's only wiring code). */
export async function buildActivities(_config: Config): Promise<Partial<Record<SystemQueue, object>>> {
  return {
    ops: createOpsActivities(),
  };
}

export function queueTuning(config: Config): Partial<Record<SystemQueue, QueueTuning>> {
  return {
    salesforce: { maxTaskQueueActivitiesPerSecond: config.SALESFORCE_RATE_LIMIT_PER_SECOND },
    sap: { maxTaskQueueActivitiesPerSecond: config.SAP_RATE_LIMIT_PER_SECOND },
    webhooks: { maxTaskQueueActivitiesPerSecond: config.WEBHOOK_RATE_LIMIT_PER_SECOND },
  };
}
