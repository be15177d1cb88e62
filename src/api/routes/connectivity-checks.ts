import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { connectivityCheck } from '../../workflows/connectivity-check';
import type { ConnectivityTarget } from '../../workflows/connectivity-check.messages';
import { statusUrl } from '../run-view';

export interface ConnectivityRouteSettings {
  workflowQueue: string;
  /** What is probed when the body names no targets. */
  connectivityTargets: ConnectivityTarget[];
}

const connectivityBody = z
  .object({
    targets: z
      .array(z.object({ system: z.string().min(1), url: z.url({ protocol: /^https?$/ }) }).strict())
      .min(1)
      .max(20)
      .optional(),
  })
  .strict();

/** `POST /v1/connectivity-checks`: probes every system from the workers' side, as a run of its own. */
export function registerConnectivityRoutes(
  app: FastifyInstance,
  client: Client,
  settings: ConnectivityRouteSettings,
): void {
  app.post('/v1/connectivity-checks', async (req, reply) => {
    const body = connectivityBody.parse(req.body ?? {});
    const workflowId = `connectivity-check:${randomUUID()}`;
    const handle = await client.workflow.start<typeof connectivityCheck>('connectivityCheck', {
      workflowId,
      taskQueue: settings.workflowQueue,
      args: [{ targets: body.targets ?? settings.connectivityTargets }],
    });
    return reply
      .code(202)
      .send({ workflowId, runId: handle.firstExecutionRunId, statusUrl: statusUrl(workflowId) });
  });
}
