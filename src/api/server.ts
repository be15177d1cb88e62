import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { createLogger } from '../observability/logging';
import { startTracing } from '../observability/tracing';
import { AccessKeyring } from '../security/access-keys';
import { projectDataConverter } from '../security/data-converter';
import { activityRoutes } from '../workers/routes';
import { createApp } from './app';
import { connectivityTargets, eventSecrets } from './systems';
import { configuredSyncs } from '../schedules/specs';

/** Composition root of the HTTP API: reads config, connects to Temporal lazily, listens, shuts down. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { forApi: true });
  // Before the client and the HTTP server exist, so both are traced (off unless OTEL_* say so).
  const tracing = startTracing({ serviceName: 'integration-api', env: config });
  const logger = createLogger({ service: 'integration-api', level: config.LOG_LEVEL });
  // Lazy: the API starts (and /healthz answers 503) even while Temporal is still down.
  const connection = Connection.lazy(config.temporal.connectionOptions);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    plugins: tracing ? [tracing.plugin] : [],
    dataConverter: projectDataConverter(config.payloadKeyring),
  });
  const app = await createApp({
    temporalClient: client,
    settings: {
      // At least one of them: checked by loadConfigOrExit({ forApi: true }).
      apiToken: config.API_TOKEN,
      accessKeys: config.ACCESS_KEYS ? new AccessKeyring(config.ACCESS_KEYS) : undefined,
      taskQueuePrefix: config.TASK_QUEUE_PREFIX,
      reportConfig: config,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      syncs: configuredSyncs(config),
      activityRoutes: activityRoutes(config),
      connectivityTargets: connectivityTargets(config),
      connectivityCheckLimit: { max: config.CONNECTIVITY_CHECKS_PER_MINUTE, windowMs: 60_000 },
      webhooks: {
        secrets: eventSecrets(config),
        ownership: config.FIELD_OWNERSHIP,
        idleTimeout: config.ENTITY_IDLE_TIMEOUT,
      },
    },
    loggerInstance: logger,
  });

  try {
    await app.listen({ host: config.API_HOST, port: config.API_PORT });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`api: port ${config.API_PORT} on ${config.API_HOST} is already in use (set API_PORT)`);
      process.exit(1);
    }
    throw err;
  }
  logger.info(`api: listening on http://${config.API_HOST}:${config.API_PORT}`);

  const stop = async (signal: string) => {
    logger.info(`api: ${signal} received, closing`);
    await app.close();
    await connection.close();
    await tracing?.shutdown();
    logger.flush();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  console.error('api: failed to start', err);
  process.exit(1);
});
