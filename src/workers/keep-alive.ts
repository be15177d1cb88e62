import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { keepingAlive } from '../activities/heartbeat';

/**
 * Keeps every activity that has a heartbeat timeout alive while it runs (see keepingAlive): the
 * real-time steps get a short heartbeat timeout in their policies so a dead worker's attempt is
 * retried within seconds, and their code needs no heartbeat calls of its own.
 */
export function keepAliveInterceptor(ctx: Context): ActivityInterceptors {
  return { inbound: { execute: (input, next) => keepingAlive(ctx, () => next(input)) } };
}
