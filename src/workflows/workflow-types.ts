import type { CustomerCreationResult } from './customer-creation.messages';
import type * as workflows from './index';
import type { NotificationDeliveryInput, NotificationDeliveryResult } from './notification-delivery.messages';
import { BusinessKey, IdempotencyKey, IntegrationFlow } from './shared/search-attributes';

/** Every workflow type the worker registers (the exports of ./index.ts), by name. */
export type ServiceWorkflowType = keyof typeof workflows;

/**
 * What `POST /v1/runs/{id}/redrive` does with a closed run of a flow:
 * - `restart`: a run that failed, was cancelled, terminated or timed out starts again under the same
 *   workflow id with its original input, read from its history (never re-sent by a caller);
 * - `refuse`: nothing; the operator is told why and what to do instead (`reason`), with a 409.
 */
export type RedriveRule = { kind: 'restart' } | { kind: 'refuse'; reason: string };

export interface FlowDefinition {
  /**
   * How long a run lives: `one-shot` (runs to a result), `entity` (one long-lived run per business
   * record, fed by events), `scheduled` (started by a Temporal Schedule), `long-lived` (a state holder).
   */
  lifetime: 'one-shot' | 'entity' | 'scheduled' | 'long-lived';
  /** The `IntegrationFlow` search attribute its runs carry, where they set one. */
  flow?: string;
  redrive: RedriveRule;
  /**
   * For a run that completed but whose notification failed for some subscribers: the redelivery to
   * start (`notificationDelivery` with only those subscribers, under the same webhook-id). Undefined:
   * nothing to redeliver.
   */
  failedNotification?: (run: {
    workflowId: string;
    input: unknown;
    result: unknown;
  }) => NotificationDeliveryInput | undefined;
  /**
   * For `restart`: the input of the new run from the failed run's input and its failure's details.
   * Undefined: the original input as it was.
   */
  restartInput?: (run: { input: unknown; failureDetails: unknown[] }) => unknown;
  /** The search attributes set when the run starts, which a restarted run carries again. */
  startAttributes: readonly { readonly name: string }[];
}

const onlyFailed = (deliveries: NotificationDeliveryResult['deliveries']) =>
  deliveries.filter((d) => d.status === 'failed').map((d) => d.subscriber);

const entityRefusal: RedriveRule = {
  kind: 'refuse',
  reason:
    'an entity workflow is not redriven: the next event for its record starts it again; have the source resend a lost event',
};

/**
 * The flows: one entry per exported workflow type, so the compiler flags a workflow added to ./index.ts
 * and missing here, and a name here that is not (or no longer) exported there.
 */
export const flows = {
  customerCreation: {
    lifetime: 'one-shot',
    flow: 'customer-creation',
    redrive: { kind: 'restart' },
    failedNotification: ({ workflowId, result }) => {
      const { notification } = result as CustomerCreationResult;
      const subscribers = onlyFailed(notification.deliveries);
      if (!subscribers.length || !notification.data) return undefined;
      return {
        sourceKey: workflowId,
        type: notification.eventType,
        data: notification.data,
        occurredAt: notification.occurredAt,
        subscribers,
      };
    },
    startAttributes: [IntegrationFlow, BusinessKey, IdempotencyKey],
  },
  notificationDelivery: {
    lifetime: 'one-shot',
    redrive: { kind: 'restart' },
    // A delivery run fails naming its deliveries: the restart sends the same event (same webhook-id and
    // body) to the subscribers that refused it, not again to those that took it.
    restartInput: ({ input, failureDetails }) => {
      const [detail] = failureDetails as [{ deliveries?: NotificationDeliveryResult['deliveries'] }?];
      const subscribers = detail?.deliveries ? onlyFailed(detail.deliveries) : [];
      return subscribers.length ? { ...(input as NotificationDeliveryInput), subscribers } : input;
    },
    startAttributes: [IntegrationFlow, BusinessKey],
  },
  reconciliation: {
    lifetime: 'one-shot',
    flow: 'reconciliation',
    redrive: { kind: 'restart' },
    startAttributes: [IntegrationFlow, BusinessKey],
  },
  connectivityCheck: {
    lifetime: 'one-shot',
    redrive: {
      kind: 'refuse',
      reason: 'a connectivity check is not redriven: start a new one with POST /v1/connectivity-checks',
    },
    startAttributes: [],
  },
  accountSync: { lifetime: 'entity', flow: 'event-sync', redrive: entityRefusal, startAttributes: [] },
  orderSync: { lifetime: 'entity', flow: 'event-sync', redrive: entityRefusal, startAttributes: [] },
  inventorySync: { lifetime: 'entity', flow: 'event-sync', redrive: entityRefusal, startAttributes: [] },
  batchSync: {
    lifetime: 'scheduled',
    flow: 'batch-sync',
    redrive: {
      kind: 'refuse',
      reason:
        'a batch sync is run by its Schedule: trigger it (POST /v1/syncs/{name}/trigger) or redrive its quarantined records (POST /v1/syncs/{name}/quarantine/redrive)',
    },
    startAttributes: [],
  },
  syncState: {
    lifetime: 'long-lived',
    redrive: {
      kind: 'refuse',
      reason: "a sync's state workflow is not redriven: the sync's next run starts it again",
    },
    startAttributes: [],
  },
  cdcSubscription: {
    lifetime: 'long-lived',
    redrive: {
      kind: 'refuse',
      reason:
        'the CDC subscription state is not redriven: restarting the CDC subscriber (npm run cdc) resumes it',
    },
    startAttributes: [],
  },
  stuckRunDetector: {
    lifetime: 'scheduled',
    redrive: {
      kind: 'refuse',
      reason:
        "the stuck-run detector is run by its Schedule: the next pass looks again (trigger the 'stuck-runs' Schedule to look now)",
    },
    startAttributes: [],
  },
  bulkRedrive: {
    lifetime: 'one-shot',
    redrive: {
      kind: 'refuse',
      reason:
        'a bulk redrive is not redriven: start a new one (POST /v1/failed-runs/redrive); runs it already redrove are not failed any more',
    },
    startAttributes: [],
  },
  stuckRunAlert: {
    lifetime: 'one-shot',
    redrive: {
      kind: 'refuse',
      reason:
        'an alert about a stuck run is sent once per run by design; the detector alerts again on a new run',
    },
    startAttributes: [],
  },
} as const satisfies Record<ServiceWorkflowType, FlowDefinition>;

/**
 * The names of the workflow types this service runs. The API acts only on runs of these types on its
 * own task queue: a namespace may hold other applications' workflows, and those are none of its business.
 */
export const serviceWorkflowTypes: readonly string[] = Object.keys(flows);

export function isServiceWorkflowType(type: string): type is ServiceWorkflowType {
  return Object.hasOwn(flows, type);
}

/** The definition of a flow, by workflow type. */
export function flowOf(type: ServiceWorkflowType): FlowDefinition {
  return flows[type];
}
