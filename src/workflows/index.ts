// The worker's workflowsPath: every workflow type the coordinator runs, by name.
export { connectivityCheck } from './connectivity-check';
export { customerCreation } from './customer-creation';
export { notificationRedelivery } from './notification-redelivery';
