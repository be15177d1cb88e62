import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { applySyncSchedules, stuckRunSchedule } from './apply';
import { configuredSyncs } from './specs';
import { projectDataConverter } from '../security/data-converter';

/** `npm run schedules:apply`: creates or updates the sync Schedules from BATCH_SYNCS, then exits. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const connection = await Connection.connect(config.temporal.connectionOptions);
  try {
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: projectDataConverter(config.payloadKeyring),
    });
    const result = await applySyncSchedules(
      client,
      configuredSyncs(config),
      config.TASK_QUEUE_PREFIX,
      stuckRunSchedule(config),
    );
    console.log(
      `schedules: created ${result.created.join(', ') || 'none'}; updated ${result.updated.join(', ') || 'none'}`,
    );
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error('schedules: failed', err);
  process.exit(1);
});
