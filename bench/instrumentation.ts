/**
 * What instrumentation costs per customer flow, off versus on, in one run (a script, not a test):
 *
 *   npx tsx bench/instrumentation.ts
 *
 * One Temporal dev server, the simulators in a child process (bench/customer-creation.ts --simulators,
 * BENCH_LATENCY_MS each call), and in this process the API and the worker wired as production wires
 * them. Phase "off": workers without the metric interceptors, a workflow bundle without the metrics
 * workflow interceptor, no tracing. Phase "on" (the default configuration): business metrics (exported on
 * the worker's Prometheus endpoint, scraped once per second during the phase as Prometheus would) and
 * trace ids in logs. Phase "on+tracing" adds OpenTelemetry tracing of API, workflows, activities and
 * outbound HTTP (batched OTLP/HTTP export to a local collector stand-in). The JSON logger and the API's /metrics are in both phases.
 *
 * Each phase runs BENCH_CUSTOMERS flows (default 60), BENCH_CONCURRENCY at a time (default 10), after
 * BENCH_WARMUP flows (default 5) not counted. "off" and "on" alternate for BENCH_ROUNDS rounds (default
 * 3) and the medians are compared; "on+tracing" runs once, last (tracing, once switched on, patches
 * `http` for the rest of the process). The figure is this process's CPU time (user + system, from
 * process.cpuUsage) per completed flow; the simulators and the Temporal server are other processes.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../src/api/app';
import { loadConfig } from '../src/config';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { createLogger, temporalLogger } from '../src/observability/logging';
import { startTracing } from '../src/observability/tracing';
import type { Tracing } from '../src/observability/tracing';
import { workerMetricsTelemetry } from '../src/observability/worker-telemetry';
import { buildActivities } from '../src/workers/dependencies';
import { bundleWorkflows, createWorkerSet } from '../src/workers/worker-set';
import { projectDataConverter } from '../src/security/data-converter';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import { envIntegersOrExit } from './support/stack';

const API_TOKEN = 'bench-token-0123456789abcdef';
const WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';
const {
  BENCH_CUSTOMERS: customers,
  BENCH_CONCURRENCY: concurrency,
  BENCH_WARMUP: warmup,
  BENCH_LATENCY_MS: latencyMs,
  BENCH_ROUNDS: rounds,
} = envIntegersOrExit(
  {
    BENCH_CUSTOMERS: { default: 60, min: 1 },
    BENCH_CONCURRENCY: { default: 10, min: 1 },
    BENCH_WARMUP: { default: 5, min: 0 },
    BENCH_LATENCY_MS: { default: 20, min: 0 },
    BENCH_ROUNDS: { default: 3, min: 1 },
  },
  'usage: [BENCH_CUSTOMERS=60] [BENCH_CONCURRENCY=10] [BENCH_WARMUP=5] [BENCH_LATENCY_MS=20] [BENCH_ROUNDS=3] npx tsx bench/instrumentation.ts',
);

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function startSimulators(): Promise<{ child: ChildProcess; urls: Record<string, string> }> {
  const child = fork(resolve(__dirname, 'customer-creation.ts'), ['--simulators'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_LATENCY_MS: String(latencyMs) },
  });
  return new Promise((ok, fail) => {
    child.on('message', (msg: { type: string; urls?: Record<string, string> }) => {
      if (msg.type === 'ready') ok({ child, urls: msg.urls! });
    });
    child.once('exit', (code) => fail(new Error(`simulators exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  console.log(
    `instrumentation benchmark: ${customers} flows per phase, ${concurrency} at a time, ${latencyMs} ms per simulator call, node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const cleanups: (() => unknown)[] = [];
  try {
    // Production logger (JSON, redaction) into a sink that discards, and the Prometheus exporter.
    const discard = new Writable({ write: (_c, _e, done) => done() });
    const logger = createLogger({ service: 'integration-worker', level: 'info', destination: discard });
    const metricsPort = await freePort();
    Runtime.install({
      logger: temporalLogger(logger, 'INFO'),
      telemetryOptions: { metrics: workerMetricsTelemetry(`127.0.0.1:${metricsPort}`) },
    });
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: resolveTemporalExecutable(),
        searchAttributes: [...allSearchAttributes],
        log: { format: 'pretty', level: 'error' },
      },
    });
    cleanups.push(() => env.teardown());
    const { child, urls } = await startSimulators();
    cleanups.push(() => child.kill('SIGTERM'));
    // A collector stand-in for the OTLP exporter: accepts and discards.
    const collector = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => collector.close(r)));
    const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;

    const config = loadConfig({
      API_TOKEN,
      TEMPORAL_ADDRESS: env.address,
      SALESFORCE_LOGIN_URL: urls.salesforce!,
      SAP_ENDPOINT: `${urls.sap}/sap/bc/soap/rfc`,
      WEBHOOK_SUBSCRIBERS: JSON.stringify([
        { name: 'consumer', url: `${urls['webhook-consumer']}/hooks/default`, secret: WEBHOOK_SECRET },
      ]),
    });
    const dataConverter = projectDataConverter(config.payloadKeyring);
    const nativeConnection = await NativeConnection.connect({ address: env.address });
    cleanups.push(() => nativeConnection.close());
    const connection = await Connection.connect({ address: env.address });
    cleanups.push(() => connection.close());

    const phase = async (name: 'off' | 'on' | 'on+tracing', tracing?: Tracing) => {
      const plugins = tracing ? [tracing.plugin] : [];
      const prefix = `bench-instr-${name.replace('+', '-')}-${Date.now().toString(36)}`;
      const instrumentation = name !== 'off';
      const set = await createWorkerSet({
        connection: nativeConnection,
        dataConverter,
        namespace: env.namespace ?? 'default',
        taskQueuePrefix: prefix,
        activities: buildActivities(config),
        workflowBundle: await bundleWorkflows(plugins, instrumentation),
        plugins,
        instrumentation,
      });
      const running = set.run();
      const client = new Client({
        connection,
        namespace: env.namespace ?? 'default',
        plugins,
        dataConverter,
      });
      const apiLogger = createLogger({ service: 'integration-api', level: 'info', destination: discard });
      const app = await createApp({
        temporalClient: client,
        loggerInstance: apiLogger,
        settings: {
          apiToken: API_TOKEN,
          taskQueuePrefix: prefix,
          temporalUiUrl: 'http://127.0.0.1:8233',
          connectivityTargets: [],
        },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
      const one = async (i: number) => {
        // References and company names allow letters, digits and '-' only ("on+tracing" would be a 400).
        const label = name.replace(/[^a-z0-9]+/gi, '-');
        const reference = `bench-${label}-${i}-${prefix.slice(-6)}`;
        const res = await fetch(`${base}/v1/customers`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            reference,
            firstName: 'Ada',
            lastName: 'Lovelace',
            email: 'ada@example.com',
            company: `Bench ${label} ${i} ${prefix.slice(-6)}`,
            address: { street: '1 Main St', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
          }),
        });
        if (res.status !== 202)
          throw new Error(`POST /v1/customers answered ${res.status}: ${await res.text()}`);
        const { workflowId } = (await res.json()) as { workflowId: string };
        await client.workflow.getHandle(workflowId).result();
      };
      const runMany = async (from: number, count: number) => {
        let next = from;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < from + count) await one(next++);
          }),
        );
      };
      await runMany(0, warmup);
      // Prometheus scrapes the worker and the API once per second while "on" runs.
      const scrape = instrumentation
        ? setInterval(() => {
            void fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
            void fetch(`${base}/metrics`).then((r) => r.text());
          }, 1000)
        : undefined;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await runMany(warmup, customers);
      await tracing?.provider.forceFlush();
      const cpu = process.cpuUsage(cpuBefore);
      const wallMs = performance.now() - started;
      if (scrape) clearInterval(scrape);
      await app.close();
      set.shutdown();
      await running;
      const cpuMsPerFlow = (cpu.user + cpu.system) / 1000 / customers;
      console.log(
        `phase ${name}: ${customers} flows in ${(wallMs / 1000).toFixed(1)} s, CPU ${cpuMsPerFlow.toFixed(2)} ms per flow (user ${(cpu.user / 1000 / customers).toFixed(2)}, system ${(cpu.system / 1000 / customers).toFixed(2)})`,
      );
      return cpuMsPerFlow;
    };

    // Off and on alternate for BENCH_ROUNDS rounds, so a change of the machine's load during the run
    // falls on both; the figures compared are the medians over the rounds.
    const offs: number[] = [];
    const ons: number[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      console.log(`round ${round} of ${rounds}`);
      offs.push(await phase('off'));
      ons.push(await phase('on'));
    }
    const off = median(offs);
    const on = median(ons);
    // The OTLP exporter reads its endpoint from the environment, as in production.
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = collectorUrl;
    const tracing = startTracing({
      serviceName: 'integration-bench',
      env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collectorUrl },
    });
    const traced = await phase('on+tracing', tracing);
    await tracing?.shutdown();
    const more = (x: number) => `${((x / off - 1) * 100).toFixed(1)} %`;
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    console.log(`off per round: ${list(offs)} ms; on per round: ${list(ons)} ms`);
    console.log(
      `CPU per customer flow (medians of ${rounds} rounds): off ${off.toFixed(2)} ms; on (metrics, logs: the default) ${on.toFixed(2)} ms = ${more(on)} more; on with tracing (one phase, last) ${traced.toFixed(2)} ms = ${more(traced)} more (budget: at most 10 %); load average now ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('instrumentation benchmark failed:', err);
    process.exit(1);
  },
);
