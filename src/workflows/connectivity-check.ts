import { setHandler } from '@temporalio/workflow';
import type {
  ConnectivityCheckInput,
  ConnectivityCheckResult,
  ConnectivityResult,
} from './connectivity-check.messages';
import { getProgressQuery } from './connectivity-check.messages';
import { activitiesOf } from './shared/proxies';

/** Probes retry quickly a few times: an operator waits on the answer. */
export const probeRetryPolicy = {
  initialInterval: '200ms',
  backoffCoefficient: 2,
  maximumInterval: '2s',
  maximumAttempts: 5,
};

/**
 * Checks, from the workers' side, that every integrated system answers. Operators start it from the API
 * (`POST /v1/connectivity-checks`) after a deployment or a network change; the run's history shows each
 * probe's attempts and errors.
 */
export async function connectivityCheck(input: ConnectivityCheckInput): Promise<ConnectivityCheckResult> {
  const ops = activitiesOf('ops', { startToCloseTimeout: '10s', retry: probeRetryPolicy });
  let checked = 0;
  setHandler(getProgressQuery, () => ({ checked, total: input.targets.length }));

  const results: ConnectivityResult[] = [];
  for (const target of input.targets) {
    results.push(await ops.probeEndpoint(target));
    checked += 1;
  }
  return { results };
}
