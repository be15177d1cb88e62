/**
 * The Salesforce -> SAP batch sync at scale (not a test): `npx tsx bench/batch-sync.ts`.
 *
 * A real Temporal dev server, the simulators in a child process, the coordinator's worker set in a child
 * process of its own (so its RSS is the worker's alone), configured as production is with an SAP rate
 * limit of N activities per second (`SAP_RATE_LIMIT_PER_SECOND`, enforced by the Temporal server on the
 * SAP queue). The Salesforce simulator is loaded with R new Accounts (no change events), then one live
 * `batchSync` run of a customer sync with the default settings (page 200, Bulk API 2.0 above 2,000
 * records, continue-as-new at 2,000 history events) creates their SAP customers and writes the numbers
 * back. Reported: wall time against the ideal R / N s, the worker's RSS when 1,000 and when all records
 * were read, the largest history of any workflow execution in the namespace, and the Salesforce API calls
 * spent (the simulator's `Sforce-Limit-Info` counter) per 1,000 records. JSON goes to bench/results/.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { loadConfig } from '../src/config';
import { devServerTuningArgs } from '../src/dev/dev-server';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { configuredSyncs } from '../src/schedules/specs';
import { projectDataConverter } from '../src/security/data-converter';
import { buildActivities, queueTuning } from '../src/workers/dependencies';
import { bundleWorkflows, createWorkerSet } from '../src/workers/worker-set';
import type { batchSync } from '../src/workflows/batch-sync';
import { getSyncProgressQuery } from '../src/workflows/batch-sync.messages';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import { coordinatorQueue, taskQueueName } from '../src/workflows/shared/task-queues';
import {
  UsageError,
  intArg,
  optionsOrExit,
  mb,
  sleep,
  runBench,
  startSimulatorProcess,
  waitFor,
  writeResults,
} from './support/stack';

const USAGE = `usage: npx tsx bench/batch-sync.ts [options]

  --records <n>     Salesforce Accounts to sync, 1,000-100,000 (default 10000)
  --sap-rate <n>    SAP activities per second (SAP_RATE_LIMIT_PER_SECOND), 1-1000 (default 50)
  --help            this text`;

interface Options {
  records: number;
  sapRate: number;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { records: 10_000, sapRate: 50 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--records') o.records = intArg('--records', argv[++i], 1_000, 100_000);
    else if (a === '--sap-rate') o.sapRate = intArg('--sap-rate', argv[++i], 1, 1_000);
    else throw new UsageError(`unknown option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Child: the worker set, reporting its RSS.

async function runWorkerChild(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig(process.env);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const dataConverter = projectDataConverter(config.payloadKeyring);
  const temporalClient = new Client({ connection: clientConnection, dataConverter });
  const set = await createWorkerSet({
    connection,
    namespace: config.temporal.namespace,
    taskQueuePrefix: config.TASK_QUEUE_PREFIX,
    dataConverter,
    activities: buildActivities(config, { temporalClient }),
    tuning: queueTuning(config),
    workflowBundle: await bundleWorkflows(),
    shutdownGraceTime: 2_000,
  });
  const running = set.run();
  const sample = () => {
    if (process.connected) process.send?.({ type: 'memory', at: Date.now(), rss: process.memoryUsage().rss });
  };
  const timer = setInterval(sample, 1_000);
  process.send?.({ type: 'ready' });
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    set.shutdown();
    void running.then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------------

/**
 * How the SAP queue was used, from the run's own histories (every execution of the chain): the rate at
 * which SAP activities started, and the stalls, gaps of more than half a second between one SAP start
 * and the next (the queue ran dry: pages or executions waiting on each other). At 50 per second the
 * normal gap is 20 ms.
 */
async function sapDispatchFigures(client: Client, workflowId: string) {
  const starts: number[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    const sapActivities = new Set<string>();
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s?.activityType?.name === 'syncAccountToSap') sapActivities.add(String(e.eventId));
      const st = e.activityTaskStartedEventAttributes;
      if (st && sapActivities.has(String(st.scheduledEventId)))
        starts.push(Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6));
    }
  }
  starts.sort((a, b) => a - b);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  const stalls = gaps.filter((g) => g > 500);
  const round = (n: number) => Math.round(n * 10) / 10;
  const spanMs = starts.length > 1 ? starts[starts.length - 1]! - starts[0]! : 0;
  return {
    activities: starts.length,
    overallPerSecond: spanMs > 0 ? round((starts.length - 1) / (spanMs / 1000)) : null,
    stalls: stalls.length,
    stallSeconds: round(stalls.reduce((a, b) => a + b, 0) / 1000),
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--child-worker')) return runWorkerChild();
  const options = optionsOrExit(parseArgs, USAGE);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const loadBefore = loadavg();
  const ideal = options.records / options.sapRate;
  console.log(
    `batch-sync bench: ${options.records} Accounts -> SAP at ${options.sapRate} SAP activities/s (ideal ${ideal.toFixed(0)} s); ${cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const cleanups: (() => unknown)[] = [];
  try {
    const server = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: resolveTemporalExecutable(),
        searchAttributes: [...allSearchAttributes],
        log: { format: 'pretty', level: 'error' },
        // The dynamic config `npm start` gives the dev server.
        extraArgs: devServerTuningArgs(false),
      },
    });
    cleanups.push(() => server.teardown());
    const sims = await startSimulatorProcess();
    cleanups.push(() => sims.stop());
    const sf = sims.urls.salesforce!;
    const prefix = `bench-sync-${Date.now().toString(36)}`;
    const syncName = 'bench-customers';
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: server.address,
      TASK_QUEUE_PREFIX: prefix,
      SALESFORCE_LOGIN_URL: sf,
      SAP_ENDPOINT: `${sims.urls.sap}/sap/bc/soap/rfc`,
      SAP_RATE_LIMIT_PER_SECOND: String(options.sapRate),
      WEBHOOK_SUBSCRIBERS: '[]',
      BATCH_SYNCS: JSON.stringify([{ name: syncName, direction: 'salesforce-to-sap' }]),
      SYNC_BULK_POLL_MS: '200',
    };
    const config = loadConfig({ ...env });
    const spec = configuredSyncs(config)[0]!.spec;

    console.log('seeding Accounts...');
    // Accounts loaded without change events, 1,000 per admin call.
    for (let from = 0; from < options.records; from += 1_000) {
      const n = Math.min(1_000, options.records - from);
      const res = await fetch(`${sf}/__admin/records/Account`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          Array.from({ length: n }, (_, i) => ({
            Name: `Bench Customer ${from + i}`,
            BillingStreet: 'Hauptstr. 1',
            BillingCity: 'Berlin',
            BillingPostalCode: '10115',
            BillingCountry: 'DE',
          })),
        ),
      });
      if (!res.ok) throw new Error(`seeding failed: HTTP ${res.status} ${await res.text()}`);
    }

    const memory: { at: number; rss: number }[] = [];
    const child = fork(__filename, ['--child-worker'], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let ready = false;
    child.on('message', (m: { type: string; at?: number; rss?: number }) => {
      if (m.type === 'ready') ready = true;
      else if (m.type === 'memory') memory.push({ at: m.at!, rss: m.rss! });
    });
    await waitFor('the worker process', () => (ready ? true : undefined), 300_000);
    console.log(`worker process ready (${Math.round(process.uptime())} s after start); starting the run`);

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, dataConverter: projectDataConverter(config.payloadKeyring) });
    const usage = async () => ((await (await fetch(`${sf}/__admin/limits`)).json()) as { used: number }).used;
    const usedBefore = await usage();

    const workflowId = `sync:${syncName}-bench`;
    const startedAt = Date.now();
    const handle = await client.workflow.start<typeof batchSync>('batchSync', {
      workflowId,
      taskQueue: taskQueueName(prefix, coordinatorQueue),
      args: [{ spec }],
    });
    // Progress (records read) against the worker's RSS, sampled each second.
    const progress: { at: number; read: number; rss?: number }[] = [];
    let finished = false;
    const result = handle.result().finally(() => (finished = true));
    while (!finished) {
      await sleep(1_000);
      const p = await client.workflow
        .getHandle(workflowId)
        .query(getSyncProgressQuery)
        .catch(() => undefined);
      if (p) progress.push({ at: Date.now(), read: p.counts.read, rss: memory[memory.length - 1]?.rss });
      if (p && progress.length % 10 === 0)
        console.log(
          `  ${Math.round((Date.now() - startedAt) / 1000)} s: ${p.phase}, read ${p.counts.read}, created ${p.counts.created}`,
        );
    }
    const done = await result;
    const wallS = (Date.now() - startedAt) / 1000;
    const usedAfter = await usage();

    // The largest history of any execution (each run of a continued-as-new chain counts on its own).
    let largest = { workflowId: '', runId: '', events: 0 };
    let executions = 0;
    for await (const w of client.workflow.list({ query: '' })) {
      executions += 1;
      if (w.historyLength > largest.events)
        largest = { workflowId: w.workflowId, runId: w.runId, events: w.historyLength };
    }
    const sapDispatch = await sapDispatchFigures(client, workflowId);
    const rssAt = (read: number) => progress.find((p) => p.read >= read && p.rss !== undefined)?.rss;
    const rss1k = rssAt(1_000);
    const rssAll = memory[memory.length - 1]?.rss;
    const figures = {
      records: options.records,
      sapRatePerSecond: options.sapRate,
      counts: done.counts,
      wallSeconds: Math.round(wallS * 10) / 10,
      idealSeconds: ideal,
      ratioToIdeal: Math.round((wallS / ideal) * 1000) / 1000,
      workerRssMbAt1k: rss1k ? mb(rss1k) : null,
      workerRssMbAtEnd: rssAll ? mb(rssAll) : null,
      workerRssGrowthMb: rss1k && rssAll ? mb(rssAll - rss1k) : null,
      workerRssMbMax: memory.length ? mb(Math.max(...memory.map((m) => m.rss))) : null,
      largestHistory: largest,
      executions,
      salesforceApiCalls: usedAfter - usedBefore,
      sapDispatch,
      salesforceApiCallsPer1000: Math.round(((usedAfter - usedBefore) / options.records) * 1000 * 10) / 10,
      loadBefore,
      loadAfter: loadavg(),
    };
    console.log(
      [
        `synced ${JSON.stringify(done.counts)}`,
        `wall ${figures.wallSeconds} s vs ideal ${ideal.toFixed(1)} s: ${figures.ratioToIdeal} x`,
        `worker RSS ${figures.workerRssMbAt1k} MB at 1,000 records read, ${figures.workerRssMbAtEnd} MB at the end (growth ${figures.workerRssGrowthMb} MB, max ${figures.workerRssMbMax} MB)`,
        `largest history: ${largest.events} events (${largest.workflowId}), ${executions} executions`,
        `SAP activities: ${sapDispatch.activities} started at ${sapDispatch.overallPerSecond}/s from the first to the last; ${sapDispatch.stalls} stalls (no SAP start for over 0.5 s) adding up to ${sapDispatch.stallSeconds} s`,
        `Salesforce API calls: ${figures.salesforceApiCalls} (${figures.salesforceApiCallsPer1000} per 1,000 records)`,
        `load average at the end: ${figures.loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
      ].join('\n'),
    );
    const file = writeResults('batch-sync', { options, figures, progress, memory });
    console.log(`results: ${file}`);
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  }
}

runBench('batch-sync', main, '--child-worker');
