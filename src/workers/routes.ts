import type { Config } from '../config';
import type { ActivityRoutes } from '../workflows/shared/task-queues';

/**
 * Which systems a run sends through their own rate-limited queue: those with a limit. A system whose
 * limit is 0 (off) runs on the workflow's queue, cheaper per flow (eager dispatch, read-only lookups
 * as local activities) but not rate limited. The API puts these routes into each run it starts; API and
 * worker read the same `*_RATE_LIMIT_PER_SECOND` variables.
 */
export function activityRoutes(config: Config): ActivityRoutes {
  const route = (perSecond: number) => (perSecond > 0 ? 'own-queue' : 'workflow-queue');
  return {
    salesforce: route(config.SALESFORCE_RATE_LIMIT_PER_SECOND),
    sap: route(config.SAP_RATE_LIMIT_PER_SECOND),
    webhooks: route(config.WEBHOOK_RATE_LIMIT_PER_SECOND),
    billing: route(config.BILLING_RATE_LIMIT_PER_SECOND),
  };
}
