import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';

/**
 * Saves a closed run's history to test/histories/<name>.json, where the replay test picks it up.
 *   npm run history:record -- <workflowId> <name> [runId]
 * Without a run id, the latest run of the workflow id (an entity workflow that closed when idle and was
 * started again by a later event has several).
 * Uses the Temporal CLI (`temporal workflow show --output json`, the same JSON the Web UI downloads),
 * which reads the connection from Temporal's own TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY
 * variables; by default, the `npm start` dev server.
 */
function main(): void {
  const [workflowId, name, runId] = process.argv.slice(2);
  if (
    !workflowId ||
    !name ||
    !/^[a-z0-9-]+$/.test(name) ||
    (runId !== undefined && !/^[0-9a-f-]{36}$/.test(runId))
  ) {
    console.error('usage: npm run history:record -- <workflowId> <name: lower-case, digits, dashes> [runId]');
    process.exit(2);
  }
  const cli = resolveTemporalExecutable();
  if (cli.type !== 'existing-path') {
    console.error('recording needs the Temporal CLI; see scripts/temporal-cli.sh');
    process.exit(2);
  }
  const run = runId ? ['--run-id', runId] : [];
  const env = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' };
  const describe = JSON.parse(
    execFileSync(
      cli.path,
      ['workflow', 'describe', '--workflow-id', workflowId, ...run, '--output', 'json'],
      {
        env,
        encoding: 'utf8',
      },
    ),
  ) as { workflowExecutionInfo?: { status?: string } };
  const status = describe.workflowExecutionInfo?.status ?? 'unknown';
  if (/RUNNING/.test(status)) {
    console.error(`${workflowId} is still running; record closed runs only`);
    process.exit(1);
  }
  const history = execFileSync(
    cli.path,
    ['workflow', 'show', '--workflow-id', workflowId, ...run, '--output', 'json'],
    {
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const file = resolve(__dirname, '../test/histories', `${name}.json`);
  const events = (JSON.parse(history) as { events?: unknown[] }).events?.length ?? 0;
  // Committed files carry no machine details: stack-trace paths become repo-relative, identities generic.
  const root = resolve(__dirname, '..');
  const scrubbed = history
    .split(`${root}/`)
    .join('')
    .replace(/"identity": "\d+@[^"]*"/g, '"identity": "worker@host"')
    .replace(/"name": "\d+@[^"]*"/g, '"name": "worker@host-sticky"');
  writeFileSync(file, scrubbed.endsWith('\n') ? scrubbed : `${scrubbed}\n`);
  console.log(`wrote ${events} events of ${workflowId} (${status}) to test/histories/${name}.json`);
}

main();
