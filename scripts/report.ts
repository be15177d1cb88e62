import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../src/config';
import { buildReport, reportMarkdown, reportQuery } from '../src/report/report';
import { projectDataConverter } from '../src/security/data-converter';

/**
 * `npm run report -- [--window 24h | --from <iso> --to <iso>] [--format markdown|json] [--max-runs N]`:
 * the integration report for the deployment the environment points at (same variables as the worker).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const raw: Record<string, string> = { format: 'markdown' };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const value = args[i + 1];
    if (value === undefined) {
      console.error(`report: ${args[i]} needs a value`);
      process.exit(2);
    }
    raw[name] = value;
  }
  const parsed = reportQuery.safeParse(raw);
  if (!parsed.success) {
    console.error(
      `report: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`,
    );
    process.exit(2);
  }
  const config = loadConfigOrExit();
  const connection = await Connection.connect(config.temporal.connectionOptions);
  try {
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: projectDataConverter(config.payloadKeyring),
    });
    const report = await buildReport(client, config, parsed.data);
    process.stdout.write(
      parsed.data.format === 'markdown' ? reportMarkdown(report) : `${JSON.stringify(report, null, 2)}\n`,
    );
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error('report: failed', err);
  process.exit(1);
});
