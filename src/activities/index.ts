export { createOpsActivities } from './ops/activities';
export type { OpsActivities } from './ops/activities';
