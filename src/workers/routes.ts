import type { Config } from '../config';
import { activitySystems, rateLimitOf } from '../systems/catalog';
import type { ActivityRoutes } from '../workflows/shared/task-queues';

/**
 * Which systems a run sends through their own rate-limited queue: those with a limit. A system whose
 * limit is 0 (off) runs on the workflow's queue, cheaper per flow (eager dispatch, read-only lookups
 * as local activities) but not rate limited. The API puts these routes into each run it starts; API and
 * worker read the same `*_RATE_LIMIT_PER_SECOND` variables.
 */
export function activityRoutes(config: Config): ActivityRoutes {
  return Object.fromEntries(
    activitySystems.map((system) => [
      system,
      config[rateLimitOf(system).variable] > 0 ? 'own-queue' : 'workflow-queue',
    ]),
  );
}
