import { log } from '@temporalio/workflow';
import type { AlertActivities, AlertInput } from '../../activities/alerts/activities';
import { failureSummary } from '../../lib/failures';

/**
 * Raises an operator alert; if the alert itself cannot be sent (after its retries), logs that and goes
 * on: a run's outcome never depends on the chat tool being up.
 */
export async function alertQuietly(
  ops: Pick<AlertActivities, 'sendAlert'>,
  alert: AlertInput,
): Promise<void> {
  await ops
    .sendAlert(alert)
    .then(() => undefined)
    .catch((alertErr: unknown) => log.error('alert failed', { error: failureSummary(alertErr) }));
}
