import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import type { AlertActivities } from '../../activities/alerts/activities';
import type { BillingActivities } from '../../activities/billing/activities';
import type { OpsActivities } from '../../activities/ops/activities';
import type { SalesforceActivities } from '../../activities/salesforce/activities';
import type { SapActivities, SapOrderActivities } from '../../activities/sap/activities';
import type { WebhookActivities } from '../../activities/webhooks/activities';
import { activityQueueFor } from './task-queues';
import type { ActivityRoute, SystemQueue } from './task-queues';

/** A table with an entry for every activity queue: a system added to the catalog without one fails here. */
type EveryQueue<T extends Record<SystemQueue, object>> = T;

/** What each activity queue hosts, as the workflows see it (types only: the sandbox loads no client). */
export type ActivitiesByQueue = EveryQueue<{
  salesforce: SalesforceActivities;
  sap: SapActivities & SapOrderActivities;
  webhooks: WebhookActivities;
  ops: OpsActivities & AlertActivities;
  billing: BillingActivities;
}>;

/**
 * The activities of one system, with the given policy: on that system's queue beside the running
 * workflow's own queue (same prefix), or, routed `workflow-queue` (a system whose rate limit is off), on
 * the workflow's own queue with eager dispatch. The one way a workflow reaches a system.
 */
export function activitiesOf<Q extends keyof ActivitiesByQueue>(
  system: Q,
  options: ActivityOptions,
  route: ActivityRoute = 'own-queue',
) {
  const own = workflowInfo().taskQueue;
  return proxyActivities<ActivitiesByQueue[Q]>({
    ...options,
    taskQueue: route === 'workflow-queue' ? own : activityQueueFor(own, system),
  });
}
