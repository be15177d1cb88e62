import { Client, Connection } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '../src/config';

/**
 * Saves a closed run's history to test/histories/<name>.json, where the replay test picks it up.
 *   npm run history:record -- <workflowId> <name>
 * Connects with the same TEMPORAL_* settings as the worker (by default the `npm start` dev server).
 */
async function main(): Promise<void> {
  const [workflowId, name] = process.argv.slice(2);
  if (!workflowId || !name || !/^[a-z0-9-]+$/.test(name)) {
    console.error('usage: npm run history:record -- <workflowId> <name: lower-case, digits, dashes>');
    process.exit(2);
  }
  const config = loadConfigOrExit({ API_TOKEN: 'not-used-by-this-script', ...process.env });
  const connection = await Connection.connect(config.temporal.connectionOptions);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const handle = client.workflow.getHandle(workflowId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') throw new Error(`${workflowId} is still running; record closed runs only`);
    const history = await handle.fetchHistory();
    const file = resolve(__dirname, '../test/histories', `${name}.json`);
    // Temporal's JSON form (the same as `temporal workflow show --output json` and the Web UI download).
    const { historyToJSON } = await import('@temporalio/common/lib/proto-utils');
    writeFileSync(file, historyToJSON(history) + '\n');
    console.log(`wrote ${history.events?.length ?? 0} events of ${workflowId} (${status.name}) to ${file}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
