/**
 * The names of the workflow types this service runs (the exports of ./index.ts; a unit test keeps the two
 * equal). The API acts only on runs of these types on its own task queue: a namespace may hold other
 * applications' workflows, and those are none of its business.
 */
export const serviceWorkflowTypes: readonly string[] = [
  'accountSync',
  'batchSync',
  'connectivityCheck',
  'customerCreation',
  'inventorySync',
  'notificationDelivery',
  'orderSync',
  'syncState',
];
