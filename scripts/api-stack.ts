import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { devServerArgs } from '../src/dev/dev-server';
import { freePort, startProcess, stopProcess, temporalAnswers, waitUntil } from '../src/dev/processes';
import type { ManagedProcess } from '../src/dev/processes';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { newAccessKey } from '../src/security/access-keys';
import { startAllSimulators } from '../src/simulators';
import type { StartedSimulators } from '../src/simulators';
import { DEV_WEBHOOK_SECRET } from '../src/simulators/webhook-consumer';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import { coordinatorQueue, taskQueueName } from '../src/workflows/shared/task-queues';

/**
 * The live API with everything it needs, on free loopback ports, for tools that drive it from outside
 * (scripts/fuzz-api.sh): a headless in-memory Temporal dev server (the binary `npm start` uses), every
 * simulator (in this process), a worker and the API (their own entry points, as child processes), and a
 * fresh access key with every scope. Nothing is written to disk.
 *
 *   tsx scripts/api-stack.ts                  prints API_URL and API_KEY, runs until Ctrl-C / SIGTERM
 *   tsx scripts/api-stack.ts -- <command...>  runs the command with API_URL and API_KEY in its
 *                                             environment, then stops everything; exits with its status
 */
const usage = 'usage: tsx scripts/api-stack.ts [-- <command> [args...]]';
const root = resolve(__dirname, '..');
const host = '127.0.0.1';

function parseArgs(argv: string[]): { command?: string[] } {
  if (argv.length === 0) return {};
  if (argv[0] === '--' && argv.length > 1) return { command: argv.slice(1) };
  if (argv[0] === '-h' || argv[0] === '--help') {
    console.log(usage);
    process.exit(0);
  }
  console.error(`api-stack: unexpected arguments: ${argv.join(' ')}\n${usage}`);
  process.exit(2);
}

async function main(): Promise<number> {
  const { command: commandLine } = parseArgs(process.argv.slice(2));
  const log = (line: string) => console.error(`api-stack: ${line}`);
  const children: ManagedProcess[] = [];
  let simulators: StartedSimulators | undefined;
  /** The command run against the stack: stopped first when the stack is interrupted. */
  let command: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  // The command, then API and worker (the worker drains), then the simulators, then Temporal.
  const stopAll = () =>
    (stopping ??= (async () => {
      if (command && command.exitCode === null && command.signalCode === null) {
        const exited = new Promise((done) => command!.once('exit', done));
        command.kill('SIGTERM');
        await exited;
      }
      for (const p of [...children].reverse()) await stopProcess(p, 15_000);
      await simulators?.stop().catch(() => undefined);
    })());
  // Last resort if this process dies another way: no orphaned children.
  process.once('exit', () => {
    if (command && command.exitCode === null) command.kill('SIGKILL');
    for (const p of children)
      if (p.child.pid && p.child.exitCode === null) {
        try {
          process.kill(-p.child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
  });
  let interrupted: number | undefined;
  const interrupt = (code: number) => {
    interrupted ??= code;
    void stopAll().then(() => process.exit(code));
  };
  process.on('SIGINT', () => interrupt(130));
  process.on('SIGTERM', () => interrupt(143));
  const watch = (p: ManagedProcess) =>
    void p.exited.then((code) => {
      if (!stopping) {
        log(`${p.name} exited unexpectedly (code ${code}); stopping everything`);
        interrupt(1);
      }
    });

  try {
    const executable = resolveTemporalExecutable();
    if (executable.type !== 'existing-path')
      throw new Error('no Temporal CLI: install it or Go (scripts/temporal-cli.sh builds it)');
    const temporalPort = await freePort(host);
    const temporalAddress = `${host}:${temporalPort}`;
    const temporal = startProcess(
      'temporal',
      executable.path,
      devServerArgs({ host, port: temporalPort, searchAttributes: allSearchAttributes, logLevel: 'error' }),
      process.env,
      { quiet: true },
    );
    children.push(temporal);
    watch(temporal);
    await waitUntil('Temporal', () => temporalAnswers(temporalAddress), 60_000);

    simulators = await startAllSimulators({
      host,
      ports: { salesforce: 0, sap: 0, webhooks: 0, inventory: 0, billing: 0 },
    });
    const sim = simulators.byName;
    const { key, entry } = newAccessKey('api-stack', ['admin'], 1_000_000);
    const apiPort = await freePort(host);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      API_HOST: host,
      API_PORT: String(apiPort),
      ACCESS_KEYS: JSON.stringify([entry]),
      LOG_LEVEL: process.env.LOG_LEVEL || 'ERROR',
      SALESFORCE_LOGIN_URL: sim.salesforce!.url,
      SAP_ENDPOINT: sim.sap!.endpoint,
      WEBHOOK_SUBSCRIBERS: JSON.stringify([
        { name: 'consumer', url: `${sim.webhooks!.url}/hooks/default`, secret: DEV_WEBHOOK_SECRET },
      ]),
      INVENTORY_BASE_URL: sim.inventory!.url,
      BILLING_API_URL: sim.billing!.url,
    };
    delete env.API_TOKEN;
    for (const [name, file] of [
      ['worker', 'src/workers/main.ts'],
      ['api', 'src/api/server.ts'],
    ] as const) {
      const p = startProcess(name, process.execPath, ['--import', 'tsx', resolve(root, file)], env, {
        quiet: true,
      });
      children.push(p);
      watch(p);
    }
    const apiUrl = `http://${host}:${apiPort}`;
    await waitUntil('the API', async () => (await fetch(`${apiUrl}/healthz`)).status === 200, 120_000);
    // The worker is ready once it polls the workflow queue (its bundle takes a while on a busy machine).
    await waitUntil(
      'the worker',
      async () => {
        const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1_000 });
        try {
          const { pollers } = await new Client({ connection }).workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: {
              name: taskQueueName(process.env.TASK_QUEUE_PREFIX || 'integration', coordinatorQueue),
            },
          });
          return pollers.length > 0;
        } finally {
          await connection.close();
        }
      },
      180_000,
    );
    log(`up: Temporal ${temporalAddress}, simulators, worker, API ${apiUrl}`);

    if (!commandLine) {
      console.log(`API_URL=${apiUrl}\nAPI_KEY=${key}`);
      await new Promise<never>(() => undefined); // until a signal stops everything
    }
    const [file, ...args] = commandLine!;
    const child = (command = spawn(file!, args, {
      stdio: 'inherit',
      env: { ...process.env, API_URL: apiUrl, API_KEY: key },
    }));
    const code = await new Promise<number>((done) => {
      child.once('error', (err) => {
        log(`cannot run ${file}: ${err.message}`);
        done(127);
      });
      child.once('exit', (c, signal) => done(c ?? (signal ? 128 : 1)));
    });
    return interrupted ?? code;
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`api-stack: ${(err as Error).message}`);
    process.exit(1);
  },
);
