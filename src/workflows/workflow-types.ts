import type * as workflows from './index';

/** Every workflow type the worker registers (the exports of ./index.ts), by name. */
export type ServiceWorkflowType = keyof typeof workflows;

// A record over the union: the compiler flags a workflow added to ./index.ts and missing here, and a
// name here that is not (or no longer) exported there.
const registered = {
  accountSync: true,
  batchSync: true,
  cdcSubscription: true,
  connectivityCheck: true,
  customerCreation: true,
  inventorySync: true,
  notificationDelivery: true,
  orderSync: true,
  reconciliation: true,
  stuckRunAlert: true,
  stuckRunDetector: true,
  syncState: true,
} as const satisfies Record<ServiceWorkflowType, true>;

/**
 * The names of the workflow types this service runs. The API acts only on runs of these types on its
 * own task queue: a namespace may hold other applications' workflows, and those are none of its business.
 */
export const serviceWorkflowTypes: readonly string[] = Object.keys(registered);
