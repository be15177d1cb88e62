import type { Client } from '@temporalio/client';
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ConnectivityTarget } from '../workflows/connectivity-check.messages';
import { coordinatorQueue, taskQueueName } from '../workflows/shared/task-queues';
import { registerAccessControl } from './access';
import type { AccessKeyring } from '../security/access-keys';
import type { Config } from '../config';
import { registerApiMetrics } from '../observability/http-metrics';
import { buildReport, reportMarkdown, reportQuery } from '../report/report';
import { errorHandler } from './errors';
import { answerWrongMethodWith405 } from './methods';
import { openApiDocument } from './openapi';
import { registerConnectivityRoutes } from './routes/connectivity-checks';
import { registerCustomerRoutes } from './routes/customers';
import { registerFlowRoutes } from './routes/flows';
import { registerRunRoutes } from './routes/runs';
import { registerFailedRunRoutes } from './routes/failed-runs';
import { registerWebhookRoutes } from './routes/webhooks';
import type { WebhookSettings } from './routes/webhooks';
import { registerSyncRoutes } from './syncs';
import type { ConfiguredSync } from '../schedules/specs';
import type { NotificationRetry } from '../workflows/customer-creation.messages';
import type { ActivityRoutes } from '../workflows/shared/task-queues';

export interface ApiSettings {
  /** The single bearer token (every scope); optional when `accessKeys` are given. */
  apiToken?: string;
  /** Scoped access keys (ACCESS_KEYS): `src/api/access.ts` says which scope each route needs. */
  accessKeys?: AccessKeyring;
  taskQueuePrefix: string;
  temporalUiUrl: string;
  /**
   * The systems `POST /v1/connectivity-checks` may probe (all of them, or those the caller names): only
   * configured ones, never a URL from the request (that would make the API a port scanner).
   */
  connectivityTargets: ConnectivityTarget[];
  /** Connectivity checks the whole API starts per window, whoever asks (default 6 per minute). */
  connectivityCheckLimit?: { max: number; windowMs: number };
  /** Per system, its own rate-limited queue or the workflow's queue (`activityRoutes(config)`). */
  activityRoutes?: ActivityRoutes;
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
  // Long path parameters reach the handlers, whose validation answers 400 (Fastify's own limit says 414).
  const routerOptions = { maxParamLength: 2048 };
  const app = deps.loggerInstance
    ? Fastify({ loggerInstance: deps.loggerInstance, routerOptions })
    : Fastify({ logger: deps.logger ?? false, routerOptions });
  app.setErrorHandler(errorHandler);
  answerWrongMethodWith405(app);
  // First route, so its onResponse hook sees every route (GET /metrics: unauthenticated, no personal data).
  registerApiMetrics(app);
  await app.register(rateLimit, { global: false });
  const workflowQueue = taskQueueName(settings.taskQueuePrefix, coordinatorQueue);

  const openapi = openApiDocument({
    connectivityTargets: settings.connectivityTargets,
    syncs: settings.syncs,
    report: settings.reportConfig !== undefined,
  });
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
    registerAccessControl(v1, { apiToken: settings.apiToken, accessKeys: settings.accessKeys });

    registerConnectivityRoutes(v1, client, {
      workflowQueue,
      connectivityTargets: settings.connectivityTargets,
      limit: settings.connectivityCheckLimit,
    });
    registerRunRoutes(v1, client, { temporalUiUrl: settings.temporalUiUrl, workflowQueue });
    registerFailedRunRoutes(v1, client, { workflowQueue });
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
    const startContext = {
      workflowQueue,
      temporalUiUrl: settings.temporalUiUrl,
      notificationRetry: settings.notificationRetry,
      activityRoutes: settings.activityRoutes,
    };
    registerCustomerRoutes(v1, client, startContext);
    registerFlowRoutes(v1, client, startContext);
  });

  return app;
}
