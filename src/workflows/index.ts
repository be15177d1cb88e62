// The worker's workflowsPath: every workflow type the coordinator runs, by name.
export { accountSync } from './account-sync';
export { connectivityCheck } from './connectivity-check';
export { customerCreation } from './customer-creation';
export { inventorySync } from './inventory-sync';
export { notificationDelivery } from './notification-delivery';
export { orderSync } from './order-sync';
export { batchSync } from './batch-sync';
export { syncState } from './sync-state';
export { cdcSubscription } from './cdc-subscription';
export { reconciliation } from './reconciliation';
export { stuckRunAlert, stuckRunDetector } from './stuck-run-detector';
export { bulkRedrive } from './bulk-redrive';
