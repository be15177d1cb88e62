import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { NotificationRetry } from '../../workflows/customer-creation.messages';
import type { ActivityRoutes } from '../../workflows/shared/task-queues';
import { answerStart, idempotencyKeyOf } from './flows';

export { requestHash } from '../../runs/start';

export interface CustomerRouteSettings {
  workflowQueue: string;
  temporalUiUrl: string;
  notificationRetry?: NotificationRetry;
  activityRoutes?: ActivityRoutes;
}

/**
 * `POST /v1/customers` starts the customer-creation saga and answers 202 at once: the same start as
 * `POST /v1/flows/customerCreation/runs` (src/runs/start.ts). One run per customer reference (the
 * workflow id is the business key). Idempotency:
 *  - the same customer sent again answers 200 with the existing run, never a second run;
 *  - an `Idempotency-Key` reused with a different body answers 422;
 *  - the same reference with different data while a run exists (or completed) answers 409;
 *  - after a run failed or was cancelled, the same reference may be submitted again (a new run).
 */
export function registerCustomerRoutes(
  app: FastifyInstance,
  client: Client,
  settings: CustomerRouteSettings,
): void {
  app.post('/v1/customers', async (req, reply) => {
    const idempotencyKey = idempotencyKeyOf(req);
    return answerStart(reply, client, settings, 'customerCreation', { body: req.body, idempotencyKey });
  });
}
