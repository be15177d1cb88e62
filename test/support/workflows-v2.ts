/**
 * "The next release" of the workflow code, for the versioned-deployment test: every workflow as in
 * src/workflows, except that customerCreation first records a memo, a new command that the runs of
 * the current code do not have. Replaying one of those runs on this code would be a determinism
 * violation, which is exactly what pinning a run to the build it started on prevents.
 */
import { upsertMemo } from '@temporalio/workflow';
import { customerCreation as currentCustomerCreation } from '../../src/workflows/customer-creation';

export * from '../../src/workflows';

export async function customerCreation(
  ...args: Parameters<typeof currentCustomerCreation>
): ReturnType<typeof currentCustomerCreation> {
  upsertMemo({ releasedIn: 'v2' });
  return currentCustomerCreation(...args);
}
