import { codecServerOrigin, loadConfigOrExit } from '../config';
import { createLogger } from '../observability/logging';
import { AccessKeyring } from './access-keys';
import { createCodecServer } from './codec-server';

/** Composition root of the codec server (`npm run codec-server`): reads config, listens, shuts down. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { forCodecServer: true });
  const logger = createLogger({ service: 'integration-codec-server', level: 'info' });
  const app = await createCodecServer({
    keyring: config.payloadKeyring,
    accessKeys: new AccessKeyring(config.ACCESS_KEYS!), // required by forCodecServer
    namespace: config.temporal.namespace,
    allowedOrigin: codecServerOrigin(config),
    loggerInstance: logger,
  });
  try {
    await app.listen({ host: config.CODEC_SERVER_HOST, port: config.CODEC_SERVER_PORT });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(
        `codec-server: port ${config.CODEC_SERVER_PORT} on ${config.CODEC_SERVER_HOST} is already in use (set CODEC_SERVER_PORT)`,
      );
      process.exit(1);
    }
    throw err;
  }
  logger.info(`codec-server: listening on http://${config.CODEC_SERVER_HOST}:${config.CODEC_SERVER_PORT}`);
  const stop = async (signal: string) => {
    logger.info(`codec-server: ${signal} received, closing`);
    await app.close();
    logger.flush();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  console.error('codec-server: failed to start', err);
  process.exit(1);
});
