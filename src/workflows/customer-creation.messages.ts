import type { SearchAttributePair } from '@temporalio/common';
import type { Customer } from '../domain/customer';
import { BusinessKey, IntegrationFlow } from './shared/search-attributes';
import type { ActivityRoutes } from './shared/task-queues';
import type { DeliveryOutcome, NotificationRetry } from './notification-delivery.messages';

export type { DeliveryOutcome, NotificationRetry } from './notification-delivery.messages';

export const customerCreationWorkflowType = 'customerCreation';

/** One run per customer reference: the business key is the workflow id (operators search by it). */
export function customerCreationWorkflowId(reference: string): string {
  return `customer-creation:${reference}`;
}

export interface CustomerCreationInput {
  customer: Customer;
  /**
   * True when the starter validated and normalised `customer` with the customer schema before starting
   * (the API does, for every run it starts, redrives included). The run then takes the customer as
   * given; without it (a run started from the CLI, the Web UI or a script) the run validates it first.
   * Validating in the run costs every run the validation module's evaluation (zod and the schemas,
   * 14-31 ms of worker CPU per run in the flow-cost benchmark), since each run evaluates the modules
   * it loads for itself.
   */
  customerValidated?: boolean;
  notificationRetry?: NotificationRetry;
  /** Base URL of the Temporal Web UI, for links in alerts. */
  temporalUiUrl?: string;
  /**
   * Per system, whether its activities go through its own (rate-limited) task queue or run on the
   * workflow's queue; set by the API from the same configuration as the worker's rate limits. Absent
   * (runs started elsewhere, or before routes existed): every system on its own queue.
   */
  routes?: ActivityRoutes;
}

export interface NotificationOutcome {
  status: 'delivered' | 'failed' | 'no-subscribers';
  eventType: 'customer.created';
  occurredAt: string;
  deliveries: DeliveryOutcome[];
  /** The event as published, so a redrive sends the same body under the same webhook-id. */
  data?: Record<string, unknown>;
}

export interface CustomerCreationResult {
  salesforceId: string;
  sapCustomerNumber: string;
  /** False when the Account already existed and was updated. */
  salesforceAccountCreated: boolean;
  /** False when an existing SAP customer (same name and address) was linked instead. */
  sapCustomerCreated: boolean;
  /** The billing customer, when billing is configured (runs before billing joined have none). */
  billingCustomerId?: string;
  /** False when a billing customer with this reference already existed and was linked. */
  billingCustomerCreated?: boolean;
  notification: NotificationOutcome;
}

export type CustomerCreationStep =
  | 'validating'
  | 'salesforce-account'
  | 'sap-customer'
  | 'billing-customer'
  | 'salesforce-writeback'
  | 'notification'
  | 'compensating'
  | 'completed'
  | 'failed'
  | 'cancelled';

/** Start options every starter uses (API, tests, scripts): id from the business key, searchable at once. */
export function customerCreationStartOptions(customer: Customer, taskQueue: string) {
  return {
    workflowId: customerCreationWorkflowId(customer.reference),
    taskQueue,
    typedSearchAttributes: [
      { key: IntegrationFlow, value: 'customer-creation' },
      { key: BusinessKey, value: customer.reference },
    ] as SearchAttributePair[],
    staticSummary: `Create customer ${customer.reference} in Salesforce and SAP`,
  };
}
