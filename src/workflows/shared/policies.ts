import { ActivityCancellationType } from '@temporalio/common';
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/common';
import { nonRetryableErrorTypes } from '../../domain/error-types';

/**
 * Retry and timeout policies, one per system, beside the proxies that use them. Business rejections
 * are non-retryable by type; everything else backs off exponentially up to a cap.
 */
const nonRetryable = [...nonRetryableErrorTypes];

/**
 * On cancellation, wait until a running activity has really finished (or acknowledged the cancel)
 * before the workflow goes on: a compensation must never run while the create it undoes is still in
 * flight, or it finds nothing and the create lands afterwards.
 */
const waitForRunningActivity = { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };

/**
 * How soon the server gives up on an attempt whose worker died (kill -9, a lost machine, a shutdown
 * whose report never reached the server) and retries it elsewhere, instead of after the whole
 * start-to-close timeout. The worker heartbeats for every activity that has one (src/workers/keep-alive.ts),
 * so a slow but live call is never cut short by it.
 */
const deadWorkerDetection = { heartbeatTimeout: '15s' } as const;

export const salesforceActivityOptions: ActivityOptions = {
  ...waitForRunningActivity,
  ...deadWorkerDetection,
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: nonRetryable,
  },
};

export const sapActivityOptions: ActivityOptions = {
  ...waitForRunningActivity,
  ...deadWorkerDetection,
  // Long enough for BAPI + commit on a slow system (each SOAP call has its own 30 s client timeout).
  startToCloseTimeout: '90s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '60s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: nonRetryable,
  },
};

export const billingActivityOptions: ActivityOptions = {
  ...waitForRunningActivity,
  ...deadWorkerDetection,
  // A search and a create, each under the client's own timeout (BILLING_TIMEOUT_MS, 20 s by default).
  startToCloseTimeout: '60s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: nonRetryable,
  },
};

/** Read-only lookups run as local activities (systems without a binding rate limit): same budget. */
export const salesforceLookupOptions: LocalActivityOptions = {
  ...waitForRunningActivity,
  startToCloseTimeout: '30s',
  retry: salesforceActivityOptions.retry,
};

export const sapLookupOptions: LocalActivityOptions = {
  ...waitForRunningActivity,
  startToCloseTimeout: '90s',
  retry: sapActivityOptions.retry,
};

/** Compensations must eventually run: more attempts, slower cap. */
export const compensationRetry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '2m',
  maximumAttempts: 30,
  nonRetryableErrorTypes: nonRetryable,
};

export const webhookActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  // Standard Webhooks receivers are retried over hours: 5 s doubling to 10 min, 20 attempts ≈ 2.5 h.
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: nonRetryable,
  },
};

export const alertActivityOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: nonRetryable,
  },
};

/**
 * Entity workflows must not lose an event to an outage: their activities retry until the system is
 * back (capped at one minute between attempts, for at most a day), and only business rejections stop.
 */
export const syncRetry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  nonRetryableErrorTypes: nonRetryable,
};

export const syncActivityOptions: ActivityOptions = {
  ...waitForRunningActivity,
  ...deadWorkerDetection,
  startToCloseTimeout: '90s',
  scheduleToCloseTimeout: '24h',
  retry: syncRetry,
};

/**
 * Salesforce steps of the batch sync: like the entity workflows they wait out outages, but a
 * REQUEST_LIMIT_EXCEEDED is not retried by the activity: the workflow parks the whole run on a durable
 * timer until the org's usage has fallen (src/workflows/batch-sync.ts), keeping the reserve for
 * real-time flows. Bulk job polls heartbeat.
 */
export const batchSalesforceOptions: ActivityOptions = {
  ...waitForRunningActivity,
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  scheduleToCloseTimeout: '24h',
  retry: { ...syncRetry, nonRetryableErrorTypes: [...nonRetryable, 'RateLimited'] },
};

/** SAP steps of the batch sync: retried until SAP is back; they heartbeat, so a dead worker is noticed in 10 s. */
export const batchSapOptions: ActivityOptions = { ...syncActivityOptions, heartbeatTimeout: '10s' };
