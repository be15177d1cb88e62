import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import type { Config } from '../config';
import { createSalesforceClient } from '../workers/dependencies';
import { coordinatorQueue, taskQueueName } from '../workflows/shared/task-queues';
import { PubSubClient } from './pubsub-client';
import { ChannelSubscriber } from './subscriber';
import type { CdcLogger, CdcSubscriberDeps } from './subscriber';
import { projectDataConverter } from '../security/data-converter';
import { configuredSyncs } from '../schedules/specs';
import type { ConfiguredSync } from '../schedules/specs';

/**
 * `npm run cdc`: the Salesforce Change Data Capture subscriber, a process of its own beside the workers
 * and the API. One Subscribe stream per channel must be open at a time (each stream keeps its own
 * position), while workers scale out, so it is not part of the worker deployment; it keeps no state of
 * its own (the position lives in Temporal), so a restart, a crash or a move to another host resumes where
 * the last one stopped. Run one replica (a second one would hand every change over twice; harmless, since
 * the entity workflows drop repeated event ids, but wasteful).
 */

const log: CdcLogger = {
  info: (m, f) => console.log(JSON.stringify({ level: 'info', component: 'cdc', msg: m, ...f })),
  warn: (m, f) => console.warn(JSON.stringify({ level: 'warn', component: 'cdc', msg: m, ...f })),
  error: (m, f) => console.error(JSON.stringify({ level: 'error', component: 'cdc', msg: m, ...f })),
};

export interface CdcOverrides {
  /** PEM of the CA to trust (instead of SALESFORCE_PUBSUB_CA_FILE). */
  caCertificate?: string;
  /** Before entity and state workflow ids (tests sharing a namespace). */
  workflowIdPrefix?: string;
  logger?: CdcLogger;
  /** Called after each entity event was handed over (benchmarks). */
  onHandedOver?: CdcSubscriberDeps['onHandedOver'];
}

/**
 * The batch sync that catches up a channel's object after lost changes: Account changes are caught up by
 * the Salesforce -> SAP customer sync. Opportunities have no batch sync (their loss is alerted only).
 */
export function catchUpSyncFor(channel: string, syncs: ConfiguredSync[]): ConfiguredSync | undefined {
  if (channel !== '/data/AccountChangeEvent') return undefined;
  return syncs.find((s) => s.spec.object === 'customer' && s.spec.direction === 'salesforce-to-sap');
}

export function createCdcSubscribers(config: Config, temporal: Client, overrides: CdcOverrides = {}) {
  const logger = overrides.logger ?? log;
  const salesforce = createSalesforceClient(config);
  const pubsub = new PubSubClient({
    endpoint: config.SALESFORCE_PUBSUB_ENDPOINT,
    caCertificate:
      overrides.caCertificate ??
      (config.SALESFORCE_PUBSUB_CA_FILE ? readFileSync(config.SALESFORCE_PUBSUB_CA_FILE, 'utf8') : undefined),
    // The jsforce session the activities use: its current token on every call.
    session: async () => {
      const conn = await salesforce.ready();
      return {
        accessToken: conn.accessToken ?? '',
        instanceUrl: conn.instanceUrl,
        organizationId: conn.userInfo?.organizationId ?? '',
      };
    },
  });
  const queue = taskQueueName(config.TASK_QUEUE_PREFIX, coordinatorQueue);
  const syncs = configuredSyncs(config);
  const subscribers = config.CDC_CHANNELS.map((channel) => {
    const catchUp = catchUpSyncFor(channel, syncs);
    return new ChannelSubscriber(channel, {
      temporal,
      pubsub,
      salesforce: () => salesforce.ready(),
      delivery: {
        workflowQueue: queue,
        ownership: config.FIELD_OWNERSHIP,
        idleTimeout: config.ENTITY_IDLE_TIMEOUT,
        temporalUiUrl: config.TEMPORAL_UI_URL,
        workflowIdPrefix: overrides.workflowIdPrefix,
      },
      stateQueue: queue,
      stateWorkflowIdPrefix: overrides.workflowIdPrefix,
      batchSize: config.CDC_BATCH_SIZE,
      log: logger,
      onHandedOver: overrides.onHandedOver,
      ...(catchUp ? { catchUp: { spec: catchUp.spec, queue } } : {}),
    });
  });
  return {
    subscribers,
    start: () => subscribers.forEach((s) => s.start()),
    async stop() {
      await Promise.all(subscribers.map((s) => s.stop()));
      pubsub.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const connection = await Connection.connect(config.temporal.connectionOptions);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: projectDataConverter(config.payloadKeyring),
  });
  const cdc = createCdcSubscribers(config, client);
  cdc.start();
  log.info('cdc subscriber started', {
    endpoint: config.SALESFORCE_PUBSUB_ENDPOINT,
    channels: config.CDC_CHANNELS,
  });
  const stop = async (signal: string) => {
    log.info(`${signal} received, stopping`);
    await cdc.stop();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('cdc: failed to start', err);
    process.exit(1);
  });
}
