import { createAlertActivities } from '../activities/alerts/activities';
import { createBillingActivities, createBillingLocalActivities } from '../activities/billing/activities';
import { createBillingClient } from '../activities/billing/client';
import { createOpsActivities } from '../activities/ops/activities';
import { createSalesforceActivities } from '../activities/salesforce/activities';
import { createSalesforceBatchActivities } from '../activities/salesforce/batch';
import { createSapBatchActivities } from '../activities/sap/batch';
import { createSapReconcileActivities } from '../activities/sap/reconcile';
import { createSalesforceReconcileActivities } from '../activities/salesforce/reconcile';
import { createSyncStateActivities } from '../activities/ops/sync-state';
import { createStuckRunActivities } from '../activities/ops/stuck-runs';
import { createBulkRedriveActivities } from '../activities/ops/bulk-redrive';
import { SalesforceClient } from '../activities/salesforce/client';
import { createSapActivities, createSapOrderActivities } from '../activities/sap/activities';
import { SapClient } from '../activities/sap/client';
import { createWebhookActivities } from '../activities/webhooks/activities';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { activitySystems, rateLimitOf } from '../systems/catalog';
import type { SystemName } from '../systems/catalog';
import type { SystemQueue } from '../workflows/shared/task-queues';
import type { QueueTuning, WorkerActivities } from './worker-set';

/** Builds each system's client and activities from configuration: the worker's only wiring code. */
export interface RuntimeDeps {
  /** A Temporal client, for activities that read other runs (entity workflows restarting after idle). */
  temporalClient?: Client;
}

/** The jsforce session holder for the configured org (the workers' activities and the CDC subscriber). */
export function createSalesforceClient(config: Config): SalesforceClient {
  return new SalesforceClient({
    loginUrl: config.SALESFORCE_LOGIN_URL,
    clientId: config.SALESFORCE_CLIENT_ID,
    clientSecret: config.SALESFORCE_CLIENT_SECRET,
    username: config.SALESFORCE_USERNAME,
    password: config.SALESFORCE_PASSWORD,
    apiVersion: config.SALESFORCE_API_VERSION,
    callClient: config.SALESFORCE_CALL_CLIENT,
  });
}

/**
 * Each system's activities, built from configuration; `undefined` = none (no worker for its queue). A
 * record over every system of the catalog: a new system without an entry here does not compile.
 */
export const systemActivities = {
  salesforce: (config) => {
    const client = createSalesforceClient(config);
    return {
      ...createSalesforceActivities({ client }),
      ...createSalesforceBatchActivities({ client }),
      ...createSalesforceReconcileActivities({ client }),
    };
  },
  sap: (config) => {
    const client = new SapClient({
      wsdlPath: config.SAP_WSDL_PATH,
      endpoint: config.SAP_ENDPOINT,
      username: config.SAP_USERNAME,
      password: config.SAP_PASSWORD,
      timeoutMs: config.SAP_TIMEOUT_MS,
    });
    const salesArea = {
      salesOrg: config.SAP_SALES_ORG,
      distributionChannel: config.SAP_DISTRIBUTION_CHANNEL,
      division: config.SAP_DIVISION,
      referenceCustomer: config.SAP_REFERENCE_CUSTOMER,
    };
    const technicalUser = config.SAP_TECHNICAL_USER ?? config.SAP_USERNAME;
    return {
      ...createSapActivities({ client, salesArea }),
      ...createSapOrderActivities({ client, salesArea }),
      ...createSapBatchActivities({ client, salesArea, technicalUser }),
      ...createSapReconcileActivities({ client, salesArea, technicalUser }),
    };
  },
  webhooks: (config) =>
    createWebhookActivities({
      subscribers: config.WEBHOOK_SUBSCRIBERS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    }),
  // The inventory service has a simulator, events and a connectivity check, but no activities yet.
  inventory: () => undefined,
  billing: (config) =>
    config.BILLING_ENABLED
      ? createBillingActivities({
          client: createBillingClient({
            apiUrl: config.BILLING_API_URL,
            secretKey: config.BILLING_SECRET_KEY,
            timeoutMs: config.BILLING_TIMEOUT_MS,
          }),
        })
      : undefined,
} satisfies Record<SystemName, (config: Config) => object | undefined>;

export function buildActivities(config: Config, runtime: RuntimeDeps = {}): WorkerActivities {
  const activities: WorkerActivities = {};
  for (const system of activitySystems) {
    const built = systemActivities[system](config);
    if (built) activities[system] = built;
  }
  const webhooks = activities.webhooks as ReturnType<typeof systemActivities.webhooks>;
  return {
    ...activities,
    // Configuration-only lookups the workflows call as local activities (no task-queue round trip).
    local: {
      listSubscribers: (input: { type: string }) => webhooks.listSubscribers(input),
      ...createBillingLocalActivities({ enabled: config.BILLING_ENABLED }),
    },
    ops: {
      ...createOpsActivities({
        temporalClient: runtime.temporalClient,
        ownChangeMarkers: [
          `client=${config.SALESFORCE_CALL_CLIENT}`,
          config.SAP_TECHNICAL_USER ?? config.SAP_USERNAME,
        ],
      }),
      ...createAlertActivities({
        webhookUrl: config.ALERT_WEBHOOK_URL,
        alertmanagerUrl: config.ALERTMANAGER_URL,
      }),
      ...createSyncStateActivities({ temporalClient: runtime.temporalClient }),
      ...createStuckRunActivities({ temporalClient: runtime.temporalClient }),
      ...createBulkRedriveActivities({ temporalClient: runtime.temporalClient }),
    },
  };
}

/** Each system's rate limit on its task queue (server-enforced across all workers); 0 means none. */
export function queueTuning(config: Config): Partial<Record<SystemQueue, QueueTuning>> {
  return Object.fromEntries(
    activitySystems.map((system) => {
      const perSecond = config[rateLimitOf(system).variable];
      return [system, perSecond > 0 ? { maxTaskQueueActivitiesPerSecond: perSecond } : {}];
    }),
  );
}
