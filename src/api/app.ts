import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ConnectivityTarget } from '../workflows/connectivity-check.messages';
import { coordinatorQueue, taskQueueName } from '../workflows/shared/task-queues';
import { bearerAuth } from './auth';
import type { Config } from '../config';
import { registerApiMetrics } from '../observability/http-metrics';
import { buildReport, reportMarkdown, reportQuery } from '../report/report';
import { errorHandler } from './errors';
import { openApiDocument } from './openapi';
import { registerConnectivityRoutes } from './routes/connectivity-checks';
import { registerCustomerRoutes } from './routes/customers';
import { registerRunRoutes } from './routes/runs';
import { registerWebhookRoutes } from './routes/webhooks';
import type { WebhookSettings } from './routes/webhooks';
import { registerSyncRoutes } from './syncs';
import type { ConfiguredSync } from '../schedules/specs';
import type { NotificationRetry } from '../workflows/customer-creation.messages';

export interface ApiSettings {
  apiToken: string;
  taskQueuePrefix: string;
  temporalUiUrl: string;
  /** What `POST /v1/connectivity-checks` probes when the body names no targets. */
  connectivityTargets: ConnectivityTarget[];
  /** Override of the customer.created delivery retry budget (tests, demos); default: the workflow's. */
  notificationRetry?: NotificationRetry;
  /** The scheduled batch syncs (`/v1/syncs`); none when absent. */
  syncs?: ConfiguredSync[];
  /** The configuration the integration report describes (`GET /v1/report`); not served when absent. */
  reportConfig?: Config;
  /** Source webhooks (`/webhooks/<source>`, signature-authenticated); not served when absent. */
  webhooks?: WebhookSettings;
}

export interface AppDeps {
  temporalClient: Client;
  settings: ApiSettings;
  logger?: boolean | { level: string };
  /** The process's shared JSON logger (src/observability/logging.ts); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
}

/**
 * The HTTP API as a factory: `server.ts` is the only file that listens. Handlers validate, call
 * Temporal and map the answer; they never wait for a workflow's result.
 */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { temporalClient: client, settings } = deps;
  const app = deps.loggerInstance
    ? Fastify({ loggerInstance: deps.loggerInstance })
    : Fastify({ logger: deps.logger ?? false });
  app.setErrorHandler(errorHandler);
  // First, so its onResponse hook sees every route (GET /metrics: unauthenticated, no personal data).
  registerApiMetrics(app);
  const workflowQueue = taskQueueName(settings.taskQueuePrefix, coordinatorQueue);

  const openapi = openApiDocument();
  app.get('/openapi.json', async () => openapi);

  app.get('/healthz', async (_req, reply) => {
    try {
      await client.connection.withDeadline(Date.now() + 2_000, () =>
        client.workflowService.getSystemInfo({}),
      );
      return { status: 'ok', temporal: { connected: true, namespace: client.options.namespace } };
    } catch (err) {
      return reply.code(503).send({
        status: 'unavailable',
        temporal: { connected: false, namespace: client.options.namespace, error: (err as Error).message },
      });
    }
  });

  if (settings.webhooks) {
    await registerWebhookRoutes(app, client, {
      ...settings.webhooks,
      workflowQueue,
      temporalUiUrl: settings.temporalUiUrl,
    });
  }

  await app.register(async (v1) => {
    v1.addHook('onRequest', bearerAuth(settings.apiToken));

    registerConnectivityRoutes(v1, client, {
      workflowQueue,
      connectivityTargets: settings.connectivityTargets,
    });
    registerRunRoutes(v1, client, settings.temporalUiUrl);
    registerSyncRoutes(v1, client, { syncs: settings.syncs ?? [], workflowQueue });
    const reportConfig = settings.reportConfig;
    if (reportConfig) {
      // The integration report, measured from the runs of this deployment's task queues.
      v1.get('/v1/report', async (req, reply) => {
        const q = reportQuery.parse(req.query);
        const report = await buildReport(client, reportConfig, q, settings.taskQueuePrefix);
        if (q.format === 'markdown')
          return reply.type('text/markdown; charset=utf-8').send(reportMarkdown(report));
        return report;
      });
    }
    registerCustomerRoutes(v1, client, {
      workflowQueue,
      temporalUiUrl: settings.temporalUiUrl,
      notificationRetry: settings.notificationRetry,
    });
  });

  return app;
}
