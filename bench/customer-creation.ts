/**
 * End-to-end benchmark of the customer-creation saga (a script, not a test):
 *
 *   npx tsx bench/customer-creation.ts
 *
 * BENCH_CUSTOMERS customers are POSTed to the real API at once; the real worker runs the saga on a real
 * Temporal dev server against the Salesforce, SAP and webhook-consumer simulators, each answering every
 * call after BENCH_LATENCY_MS. Reports throughput, API 202 latency, end-to-end latency, the critical
 * path of external calls per run and the orchestration overhead (end-to-end minus that critical path),
 * in total and per external call. See docs/benchmarks.md for the definitions.
 *
 * Processes: the simulators run in a child process (forked from this file with `--simulators`, so they
 * never share an event loop with the worker); the Temporal dev server is its own process; the worker,
 * the API and the load generator (the POSTs, then waiting) share this process, wired as the integration
 * tests wire them (test/support); `npm start` runs worker and API as separate processes instead.
 *
 * Env: BENCH_CUSTOMERS (200), BENCH_LATENCY_MS (20), BENCH_WARMUP (1 customer run first, not counted;
 * 0 disables), BENCH_RATE_LIMITS (`off`: no per-system task-queue rate limits, like the tests; `config`:
 * the production defaults from loadConfig, SALESFORCE/SAP/WEBHOOK_RATE_LIMIT_PER_SECOND),
 * BENCH_MAX_ACTIVITIES (per system worker's maxConcurrentActivityTaskExecutions; SDK default),
 * BENCH_TIMEOUT_MS (600000), BENCH_CODEC (`on`: the payload codec as deployed, encrypting every payload
 * and failure with the default keyring; `off`: plain payloads, to measure what the codec costs),
 * TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (use a running server; it must have
 * the custom search attributes registered).
 */
import { Client, Connection } from '@temporalio/client';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { execFileSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/api/app';
import { loadConfig } from '../src/config';
import { projectDataConverter } from '../src/security/data-converter';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { buildActivities, queueTuning } from '../src/workers/dependencies';
import { bundleWorkflows, createWorkerSet } from '../src/workers/worker-set';
import { findDevServerPid, procCpuMs } from './support/proc';
import { envSettingsOrExit, intArg, oneOf } from './support/stack';
import type { QueueTuning } from '../src/workers/worker-set';
import type { CustomerCreationResult } from '../src/workflows/customer-creation.messages';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import type { SystemQueue } from '../src/workflows/shared/task-queues';

const API_TOKEN = 'bench-token-0123456789abcdef';
const WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';
/** Every request that belongs to a run carries its reference somewhere (URL, SOQL, SOAP body, event). */
const TOKEN = /bench-[a-z0-9]{6}-\d+/i;

type SimName = 'salesforce' | 'sap' | 'webhook-consumer';

/** One request as the simulator child saw it (its own onResponse hook, beside the simulator's request log). */
interface Trace {
  sim: SimName;
  method: string;
  path: string;
  operation?: string;
  status: number;
  fault?: string;
  /** Server-side time of the request (Fastify's reply.elapsedTime, unrounded), injected latency included. */
  durationMs: number;
  /** Epoch ms when the response finished. */
  endAt: number;
  /** The run reference found in the URL or body. */
  token?: string;
  /** Salesforce record id of a PATCH/GET/DELETE by id (the write-back carries only the Account id). */
  sfId?: string;
  /** SAP session ids: the cookie the request presented and the one the answer set. */
  sapPresented?: string;
  sapIssued?: string;
}

interface LoggedRequest {
  operation?: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
}

type ChildMessage =
  | { type: 'ready'; urls: Record<SimName, string> }
  | {
      type: 'dump';
      traces: Trace[];
      logs: Record<SimName, LoggedRequest[]>;
      sfApiUsage: unknown;
      cpu: NodeJS.CpuUsage;
    }
  | { type: 'cleared'; cpu: NodeJS.CpuUsage };

// ---------------------------------------------------------------------------------------------------
// Child: the three simulators with a fixed latency, and a per-request trace.

async function serveSimulators(): Promise<void> {
  const { createSalesforceSimulator, createSapSimulator, createWebhookConsumerSimulator } =
    await import('../src/simulators');
  const latency = Number(process.env.BENCH_LATENCY_MS ?? 20);
  const salesforce = createSalesforceSimulator({ dailyApiLimit: 1_000_000_000 });
  const sap = createSapSimulator();
  const webhooks = createWebhookConsumerSimulator();
  const sims = { salesforce, sap, 'webhook-consumer': webhooks } as const;
  let traces: Trace[] = [];

  for (const [name, sim] of Object.entries(sims) as [SimName, (typeof sims)[SimName]][]) {
    sim.core.faults.setLatency({ fixedMs: latency, jitterMs: 0 });
    sim.core.app.addHook('onResponse', (req, reply, done) => {
      if (!req.url.startsWith('/__admin')) traces.push(trace(name, req, reply));
      done();
    });
  }
  const running = [
    await salesforce.start({ port: 0, host: '127.0.0.1' }),
    await sap.start({ port: 0, host: '127.0.0.1' }),
    await webhooks.start({ port: 0, host: '127.0.0.1' }),
  ];
  const [sfRun, sapRun, hookRun] = running;
  const urls = { salesforce: sfRun!.url, sap: sapRun!.url, 'webhook-consumer': hookRun!.url };

  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'dump') {
      send({
        type: 'dump',
        traces,
        logs: {
          salesforce: salesforce.core.requests.list(),
          sap: sap.core.requests.list(),
          'webhook-consumer': webhooks.core.requests.list(),
        },
        sfApiUsage: salesforce.apiUsage(),
        cpu: process.cpuUsage(),
      });
    } else if (msg.type === 'clear') {
      traces = [];
      for (const sim of Object.values(sims)) sim.core.requests.clear();
      send({ type: 'cleared', cpu: process.cpuUsage() });
    }
  });
  process.on('disconnect', () => {
    void Promise.all(running.map((r) => r.stop())).finally(() => process.exit(0));
  });
  console.log(JSON.stringify({ simulators: urls, latencyMs: latency }));
  send({ type: 'ready', urls });
}

function trace(sim: SimName, req: FastifyRequest, reply: FastifyReply): Trace {
  let url = req.url;
  try {
    url = decodeURIComponent(req.url);
  } catch {
    // keep it raw
  }
  const body = typeof req.body === 'string' ? req.body : '';
  const token = (TOKEN.exec(url) ?? TOKEN.exec(body))?.[0]?.toLowerCase();
  const path = req.url.split('?')[0] ?? req.url;
  const t: Trace = {
    sim,
    method: req.method,
    path,
    operation: req.simOperation,
    status: reply.statusCode,
    fault: req.simFault,
    durationMs: reply.elapsedTime,
    endAt: Date.now(),
    token,
  };
  if (sim === 'salesforce') {
    const id = /\/sobjects\/Account\/([A-Za-z0-9]{15,18})$/.exec(path)?.[1];
    if (id) t.sfId = id;
  }
  if (sim === 'sap') {
    t.sapPresented = /SAP_SESSIONID_[^=]+=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const setCookie = reply.getHeader('set-cookie');
    const lines = Array.isArray(setCookie) ? setCookie : typeof setCookie === 'string' ? [setCookie] : [];
    for (const line of lines) {
      const m = /^SAP_SESSIONID_[^=]+=([^;]+)/.exec(line);
      if (m) t.sapIssued = m[1];
    }
  }
  return t;
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

// ---------------------------------------------------------------------------------------------------
// Parent.

interface RunRecord {
  index: number;
  reference: string;
  workflowId: string;
  runId?: string;
  postSentAt: number; // epoch ms
  postSentPerf: number;
  apiStatus?: number;
  apiError?: string;
  apiLatencyMs?: number;
  resultObservedMs?: number; // POST sent -> handle.result() resolved, in this process
  outcome?: 'completed' | 'failed';
  failure?: string;
  result?: CustomerCreationResult;
  startTime?: number;
  closeTime?: number;
  historyLength?: number;
  history?: HistoryBreakdown;
  calls: Trace[];
}

interface HistoryBreakdown {
  activities: { type: string; queueMs: number; execMs: number; attempt: number }[];
  activityQueueMs: number;
  activityExecMs: number;
  workflowTaskQueueMs: number;
  workflowTaskRunMs: number;
  workflowTasks: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

interface Stat {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

function stat(values: number[]): Stat {
  const round = (n: number) => Math.round(n * 10) / 10;
  const n = values.length;
  return {
    n,
    mean: round(n ? values.reduce((a, b) => a + b, 0) / n : NaN),
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    min: round(n ? Math.min(...values) : NaN),
    max: round(n ? Math.max(...values) : NaN),
  };
}

/** The commit measured, and whether the work tree had uncommitted changes (other people's edits). */
function gitState(): { commit?: string; dirtyFiles?: number } {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: __dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return {
      commit: git('rev-parse', '--short', 'HEAD').trim(),
      dirtyFiles: git('status', '--porcelain').split('\n').filter(Boolean).length,
    };
  } catch {
    return {};
  }
}

/** Busy and total CPU time of the whole machine so far (ms, all cores). */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times: t } of cpus()) {
    const b = t.user + t.nice + t.sys + t.irq;
    busy += b;
    total += b + t.idle;
  }
  return { busy, total };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function startChild(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; urls: Record<SimName, string> }> {
  // fork() inherits this process's execArgv (tsx's loader), so the child runs this same .ts file.
  const child = fork(__filename, ['--simulators'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator child did not report within 30 s')), 30_000);
    child.on('message', (msg: ChildMessage) => {
      if (msg.type !== 'ready') return;
      clearTimeout(timer);
      resolve({ child, urls: msg.urls });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator child exited with code ${code} before reporting`));
    });
  });
}

function ask<T extends ChildMessage['type']>(
  child: ChildProcess,
  request: 'dump' | 'clear',
  answer: T,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator child did not answer "${request}"`)), 30_000);
    const onMessage = (msg: ChildMessage) => {
      if (msg.type !== answer) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(msg as Extract<ChildMessage, { type: T }>);
    };
    child.on('message', onMessage);
    child.send({ type: request });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
  });
}

function customerBody(reference: string) {
  return {
    reference,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `${reference}@example.com`,
    phone: '+44 20 7946 0958',
    company: reference, // unique per run: SAP's check-before-create finds nothing, so every run creates
    address: { street: '12 Bench Street', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function breakdown(events: HistoryEvent[]): HistoryBreakdown {
  const at = (e: HistoryEvent) => tsToMs(e.eventTime);
  const byId = new Map<number, HistoryEvent>();
  const out: HistoryBreakdown = {
    activities: [],
    activityQueueMs: 0,
    activityExecMs: 0,
    workflowTaskQueueMs: 0,
    workflowTaskRunMs: 0,
    workflowTasks: 0,
  };
  for (const e of events) {
    byId.set(Number(e.eventId), e);
    if (e.workflowTaskCompletedEventAttributes) {
      const started = byId.get(Number(e.workflowTaskCompletedEventAttributes.startedEventId));
      const scheduled = byId.get(Number(e.workflowTaskCompletedEventAttributes.scheduledEventId));
      if (started && scheduled) {
        out.workflowTaskQueueMs += at(started) - at(scheduled);
        out.workflowTaskRunMs += at(e) - at(started);
        out.workflowTasks += 1;
      }
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const scheduled = byId.get(Number(done.scheduledEventId));
      const started = byId.get(Number(done.startedEventId));
      if (scheduled && started) {
        const queueMs = at(started) - at(scheduled);
        const execMs = at(e) - at(started);
        out.activities.push({
          type: scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          queueMs,
          execMs,
          attempt: started.activityTaskStartedEventAttributes?.attempt ?? 1,
        });
        out.activityQueueMs += queueMs;
        out.activityExecMs += execMs;
      }
    }
  }
  return out;
}

/** Assigns each traced request to its run: by reference, by Salesforce Account id, or by SAP session. */
function attribute(traces: Trace[], runs: RunRecord[]): Trace[] {
  const byToken = new Map(runs.map((r) => [r.reference, r]));
  const bySfId = new Map<string, RunRecord>();
  for (const r of runs) if (r.result?.salesforceId) bySfId.set(r.result.salesforceId, r);
  const bySession = new Map<string, RunRecord>();
  for (const t of traces) {
    const run = t.token ? byToken.get(t.token) : undefined;
    if (run && t.sim === 'sap') {
      if (t.sapPresented) bySession.set(t.sapPresented, run);
      if (t.sapIssued) bySession.set(t.sapIssued, run);
    }
  }
  const unattributed: Trace[] = [];
  for (const t of traces) {
    const run =
      (t.token ? byToken.get(t.token) : undefined) ??
      (t.sfId ? bySfId.get(t.sfId) : undefined) ??
      (t.sapPresented ? bySession.get(t.sapPresented) : undefined) ??
      (t.sapIssued ? bySession.get(t.sapIssued) : undefined);
    if (run) run.calls.push(t);
    else unattributed.push(t);
  }
  for (const r of runs) r.calls.sort((a, b) => a.endAt - b.endAt);
  return unattributed;
}

const label = (t: Trace) => `${t.sim} ${t.operation ?? `${t.method} ${t.path}`}`;

const USAGE =
  'usage: [BENCH_CUSTOMERS=200] [BENCH_LATENCY_MS=20] [BENCH_WARMUP=1] [BENCH_RATE_LIMITS=off|config] ' +
  '[BENCH_CODEC=on|off] [BENCH_MAX_ACTIVITIES=n] [BENCH_TIMEOUT_MS=600000] npx tsx bench/customer-creation.ts';

/** The BENCH_* settings: whole numbers and known words (a UsageError names the bad one). */
function settingsFrom(env: NodeJS.ProcessEnv) {
  return {
    customers: intArg('BENCH_CUSTOMERS', env.BENCH_CUSTOMERS ?? '200', 1),
    latencyMs: intArg('BENCH_LATENCY_MS', env.BENCH_LATENCY_MS ?? '20', 0),
    warmup: intArg('BENCH_WARMUP', env.BENCH_WARMUP ?? '1', 0),
    rateLimits: oneOf('BENCH_RATE_LIMITS', env.BENCH_RATE_LIMITS ?? 'off', ['off', 'config'] as const),
    codec: oneOf('BENCH_CODEC', env.BENCH_CODEC ?? 'on', ['on', 'off'] as const),
    maxActivities: env.BENCH_MAX_ACTIVITIES
      ? intArg('BENCH_MAX_ACTIVITIES', env.BENCH_MAX_ACTIVITIES, 1)
      : undefined,
    timeoutMs: intArg('BENCH_TIMEOUT_MS', env.BENCH_TIMEOUT_MS ?? '600000', 1),
  };
}

async function main(): Promise<void> {
  const { customers, latencyMs, warmup, rateLimits, codec, maxActivities, timeoutMs } = envSettingsOrExit(
    settingsFrom,
    USAGE,
  );

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      await fn().catch((err: unknown) => console.error('cleanup:', (err as Error).message));
    }
  };
  const deadline = setTimeout(() => {
    console.error(`customer-creation benchmark: gave up after ${timeoutMs} ms (BENCH_TIMEOUT_MS)`);
    void cleanup().finally(() => process.exit(1));
  }, timeoutMs);
  deadline.unref();

  const loadBefore = loadavg();
  console.log(
    `customer-creation benchmark: ${customers} customers at once, ${latencyMs} ms per simulator call, ` +
      `rate limits ${rateLimits}, payload codec ${codec}, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });

    // Temporal: a dev server of our own, or the one named by TEMPORAL_ADDRESS.
    let address = process.env.TEMPORAL_ADDRESS;
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    if (!address) {
      const env = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: resolveTemporalExecutable(),
          searchAttributes: [...allSearchAttributes],
          log: { format: 'pretty', level: 'error' },
        },
      });
      cleanups.push(() => env.teardown());
      address = env.address;
    }
    const connection = await Connection.connect({ address });
    cleanups.push(() => connection.close());
    const nativeConnection = await NativeConnection.connect({ address });
    cleanups.push(() => nativeConnection.close());

    // Simulators in their own process.
    const { child, urls } = await startChild({ ...process.env, BENCH_LATENCY_MS: String(latencyMs) });
    child.stdout?.on('data', () => undefined); // the child prints its URLs; they arrive over IPC too
    cleanups.push(() => stopChild(child));
    console.log(`simulators (child pid ${child.pid}): ${JSON.stringify(urls)}`);

    // Worker and API in this process, configured the way production is (loadConfig).
    const tag = randomUUID().replace(/-/g, '').slice(0, 6);
    const prefix = `bench-${tag}`;
    const config = loadConfig({
      API_TOKEN,
      TEMPORAL_ADDRESS: address,
      SALESFORCE_LOGIN_URL: urls.salesforce,
      SAP_ENDPOINT: `${urls.sap}/sap/bc/soap/rfc`,
      WEBHOOK_SUBSCRIBERS: JSON.stringify([
        { name: 'consumer', url: `${urls['webhook-consumer']}/hooks/default`, secret: WEBHOOK_SECRET },
      ]),
    });
    const dataConverter = projectDataConverter(codec === 'off' ? undefined : config.payloadKeyring);
    const client = new Client({ connection, namespace, dataConverter });
    const tuning: Partial<Record<SystemQueue, QueueTuning>> =
      rateLimits === 'config' ? queueTuning(config) : {};
    if (maxActivities !== undefined) {
      for (const q of ['salesforce', 'sap', 'webhooks', 'ops'] as SystemQueue[]) {
        tuning[q] = { ...tuning[q], maxConcurrentActivityTaskExecutions: maxActivities };
      }
    }
    const set = await createWorkerSet({
      connection: nativeConnection,
      namespace,
      taskQueuePrefix: prefix,
      dataConverter,
      activities: buildActivities(config),
      tuning,
      workflowBundle: await bundleWorkflows(),
      shutdownGraceTime: 5_000,
    });
    const running = set.run();
    cleanups.push(async () => {
      set.shutdown();
      await running;
    });

    const app = await createApp({
      temporalClient: client,
      settings: {
        apiToken: API_TOKEN,
        taskQueuePrefix: prefix,
        temporalUiUrl: 'http://127.0.0.1:8233',
        connectivityTargets: [],
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const apiUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    console.log(`temporal ${address}, task queues ${prefix}.*, API ${apiUrl}`);

    const submit = async (run: RunRecord) => {
      run.postSentPerf = performance.now();
      run.postSentAt = Date.now();
      try {
        const res = await fetch(`${apiUrl}/v1/customers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(customerBody(run.reference)),
        });
        const text = await res.text();
        run.apiLatencyMs = performance.now() - run.postSentPerf;
        run.apiStatus = res.status;
        if (res.status !== 202) {
          run.apiError = text.slice(0, 500);
          return;
        }
        run.runId = (JSON.parse(text) as { runId: string }).runId;
      } catch (err) {
        const cause = (err as { cause?: { message?: string; code?: string } }).cause;
        run.apiError = `${(err as Error).message}${cause ? `: ${cause.code ?? ''} ${cause.message ?? ''}` : ''}`;
        return;
      }
      try {
        run.result = await client.workflow.getHandle(run.workflowId, run.runId).result();
        run.outcome = 'completed';
      } catch (err) {
        run.outcome = 'failed';
        run.failure = `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`;
      }
      run.resultObservedMs = performance.now() - run.postSentPerf;
    };
    const newRun = (index: number, t: string): RunRecord => {
      const reference = `bench-${t}-${index}`;
      return {
        index,
        reference,
        workflowId: `customer-creation:${reference}`,
        postSentAt: 0,
        postSentPerf: 0,
        calls: [],
      };
    };
    const describeAll = async (runs: RunRecord[]) => {
      await pool(
        runs.filter((r) => r.runId),
        16,
        async (r) => {
          const handle = client.workflow.getHandle(r.workflowId, r.runId);
          const d: WorkflowExecutionDescription = await handle.describe();
          r.startTime = d.startTime.getTime();
          r.closeTime = d.closeTime?.getTime();
          r.historyLength = d.historyLength;
          const history = await handle.fetchHistory();
          r.history = breakdown(history.events ?? []);
        },
      );
    };

    // Warm-up: the first run pays one-time costs (OAuth token, WSDL parsing, workflow sandbox). Its
    // requests are kept as the example of one run's external calls.
    let warmupCalls: { call: string; status: number; durationMs: number; attributed: boolean }[] = [];
    if (warmup > 0) {
      const wtag = randomUUID().replace(/-/g, '').slice(0, 6);
      const wruns = Array.from({ length: warmup }, (_, i) => newRun(i, wtag));
      for (const r of wruns) await submit(r);
      const bad = wruns.filter((r) => r.outcome !== 'completed');
      if (bad.length) {
        throw new Error(`warm-up run failed: ${bad.map((r) => r.apiError ?? r.failure).join('; ')}`);
      }
      const dump = await ask(child, 'dump', 'dump');
      const first = wruns[0]!;
      const unattributed = attribute(dump.traces, [first]);
      warmupCalls = [
        ...first.calls.map((t) => ({
          call: label(t),
          status: t.status,
          durationMs: Math.round(t.durationMs * 10) / 10,
          attributed: true,
          endAt: t.endAt,
        })),
        ...unattributed.map((t) => ({
          call: label(t),
          status: t.status,
          durationMs: Math.round(t.durationMs * 10) / 10,
          attributed: false,
          endAt: t.endAt,
        })),
      ]
        .sort((a, b) => a.endAt - b.endAt)
        .map(({ endAt: _e, ...rest }) => rest);
      console.log(
        `warm-up run (${first.reference}) external calls, in order: ` +
          warmupCalls.map((c) => `${c.call}${c.attributed ? '' : ' [shared]'}`).join(' -> '),
      );
    }

    // The batch: every POST at once.
    const runs = Array.from({ length: customers }, (_, i) => newRun(i, tag));
    const childCpuBefore = (await ask(child, 'clear', 'cleared')).cpu;
    const serverPid = process.env.TEMPORAL_ADDRESS ? undefined : findDevServerPid(address);
    const cpuBefore = {
      bench: process.cpuUsage(),
      server: serverPid ? procCpuMs(serverPid) : undefined,
      machine: machineCpu(),
    };
    const batchStartPerf = performance.now();
    const batchStartAt = Date.now();
    console.log(`firing ${customers} POST /v1/customers ...`);
    const progress = setInterval(() => {
      const done = runs.filter((r) => r.outcome || r.apiError).length;
      console.log(
        `  ${Math.round((performance.now() - batchStartPerf) / 1000)} s: ${done}/${customers} closed`,
      );
    }, 10_000);
    await Promise.all(runs.map((r) => submit(r)));
    clearInterval(progress);
    const batchWallMs = performance.now() - batchStartPerf;
    const loadAfter = loadavg();
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const serverCpuAfter = serverPid ? procCpuMs(serverPid) : undefined;
    const machineAfter = machineCpu();

    await describeAll(runs);
    const dump = await ask(child, 'dump', 'dump');
    const unattributed = attribute(dump.traces, runs);
    const cpuSeconds = (us: NodeJS.CpuUsage) => (us.user + us.system) / 1e6;
    const machineBusyS = (machineAfter.busy - cpuBefore.machine.busy) / 1000;
    const cpu = {
      windowS: Math.round(batchWallMs) / 1000,
      cores: cpus().length,
      machineBusyPct: Math.round(
        (100 * (machineAfter.busy - cpuBefore.machine.busy)) / (machineAfter.total - cpuBefore.machine.total),
      ),
      machineBusyS: Math.round(machineBusyS * 10) / 10,
      benchProcessS: Math.round(cpuSeconds(benchCpu) * 10) / 10,
      simulatorsChildS:
        Math.round(
          cpuSeconds({
            user: dump.cpu.user - childCpuBefore.user,
            system: dump.cpu.system - childCpuBefore.system,
          }) * 10,
        ) / 10,
      temporalServerS:
        serverCpuAfter !== undefined && cpuBefore.server !== undefined
          ? Math.round((serverCpuAfter - cpuBefore.server) / 100) / 10
          : undefined,
      otherS: 0,
      /** CPU of worker+API, simulators and Temporal server per completed run. */
      stackCpuMsPerRun: 0,
    };
    cpu.stackCpuMsPerRun = Math.round(
      ((cpu.benchProcessS + cpu.simulatorsChildS + (cpu.temporalServerS ?? 0)) * 1000) /
        Math.max(1, runs.length),
    );
    cpu.otherS =
      Math.round(
        (cpu.machineBusyS - cpu.benchProcessS - cpu.simulatorsChildS - (cpu.temporalServerS ?? 0)) * 10,
      ) / 10;

    // ------------------------------------------------------------------------------- figures
    const accepted = runs.filter((r) => r.apiStatus === 202);
    const completed = runs.filter((r) => r.outcome === 'completed' && r.closeTime !== undefined);
    const apiErrors = runs.filter((r) => r.apiStatus !== 202);
    const failed = runs.filter((r) => r.outcome === 'failed');
    const lastClose = Math.max(...completed.map((r) => r.closeTime!));
    const batchSpanMs = lastClose - batchStartAt;

    const perRun = completed.map((r) => {
      const externalMs = r.calls.reduce((a, t) => a + t.durationMs, 0);
      const calls = r.calls.length;
      const e2eMs = r.closeTime! - r.postSentAt; // POST sent -> workflow closed (same host clock)
      const workflowMs = r.closeTime! - r.startTime!; // workflow start -> close (server timestamps)
      const h = r.history!;
      return {
        reference: r.reference,
        calls,
        callSequence: r.calls.map(label),
        apiLatencyMs: r.apiLatencyMs!,
        e2eMs,
        workflowMs,
        startDelayMs: r.startTime! - r.postSentAt,
        resultObservedMs: r.resultObservedMs!,
        externalMs,
        expectedExternalMs: calls * latencyMs,
        overheadMs: e2eMs - externalMs,
        overheadPerCallMs: (e2eMs - externalMs) / calls,
        overheadVsInjectedMs: e2eMs - calls * latencyMs,
        workflowOverheadMs: workflowMs - externalMs,
        activityQueueMs: h.activityQueueMs,
        activityExecMs: h.activityExecMs,
        activityClientMs: h.activityExecMs - externalMs,
        workflowTaskQueueMs: h.workflowTaskQueueMs,
        workflowTaskRunMs: h.workflowTaskRunMs,
        workflowTasks: h.workflowTasks,
        activities: h.activities.length,
        retries: h.activities.filter((a) => a.attempt > 1).length,
        historyLength: r.historyLength,
      };
    });
    const col = <K extends keyof (typeof perRun)[number]>(k: K) => perRun.map((p) => p[k] as number);
    const callCounts: Record<string, number> = {};
    for (const p of perRun) callCounts[String(p.calls)] = (callCounts[String(p.calls)] ?? 0) + 1;
    const sequences: Record<string, number> = {};
    for (const p of perRun) {
      const key = p.callSequence.join(' -> ');
      sequences[key] = (sequences[key] ?? 0) + 1;
    }
    const byOperation: Record<string, { count: number; durationMs: Stat }> = {};
    for (const t of dump.traces) {
      const k = label(t);
      (byOperation[k] ??= { count: 0, durationMs: stat([]) }).count += 1;
    }
    for (const k of Object.keys(byOperation)) {
      byOperation[k]!.durationMs = stat(dump.traces.filter((t) => label(t) === k).map((t) => t.durationMs));
    }
    const statuses: Record<string, number> = {};
    for (const t of dump.traces)
      statuses[`${t.sim} ${t.status}`] = (statuses[`${t.sim} ${t.status}`] ?? 0) + 1;
    // Cross-check against the simulators' own request logs (durations rounded to 1 ms there).
    const officialLog = Object.fromEntries(
      Object.entries(dump.logs).map(([sim, list]) => [
        sim,
        { requests: list.length, sumDurationMs: list.reduce((a, e) => a + e.durationMs, 0) },
      ]),
    );
    const tracedTotals = Object.fromEntries(
      (['salesforce', 'sap', 'webhook-consumer'] as SimName[]).map((sim) => {
        const list = dump.traces.filter((t) => t.sim === sim);
        return [
          sim,
          { requests: list.length, sumDurationMs: Math.round(list.reduce((a, t) => a + t.durationMs, 0)) },
        ];
      }),
    );

    const summary = {
      customers,
      accepted: accepted.length,
      completed: completed.length,
      failed: failed.length,
      apiErrors: apiErrors.length,
      throughputRunsPerSecond: Math.round((completed.length / (batchSpanMs / 1000)) * 100) / 100,
      batchSpanMs,
      batchWallMs: Math.round(batchWallMs),
      apiLatencyMs: stat(accepted.map((r) => r.apiLatencyMs!)),
      e2eMs: stat(col('e2eMs')),
      workflowMs: stat(col('workflowMs')),
      startDelayMs: stat(col('startDelayMs')),
      resultObservedMs: stat(col('resultObservedMs')),
      externalCallsPerRun: callCounts,
      externalMs: stat(col('externalMs')),
      overheadMs: stat(col('overheadMs')),
      overheadPerCallMs: stat(col('overheadPerCallMs')),
      overheadVsInjectedMs: stat(col('overheadVsInjectedMs')),
      workflowOverheadMs: stat(col('workflowOverheadMs')),
      breakdownMs: {
        activityQueue: stat(col('activityQueueMs')),
        activityClient: stat(col('activityClientMs')),
        workflowTaskQueue: stat(col('workflowTaskQueueMs')),
        workflowTaskRun: stat(col('workflowTaskRunMs')),
      },
      retries: perRun.reduce((a, p) => a + p.retries, 0),
    };

    const f = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1)).padStart(9);
    const row = (name: string, s: Stat) =>
      console.log(`${name.padEnd(44)}${f(s.p50)}${f(s.p90)}${f(s.p99)}${f(s.max)}${f(s.mean)}`);
    console.log('');
    console.log(
      `${customers} POSTed, ${accepted.length} accepted (202), ${completed.length} completed, ${failed.length} failed; ` +
        `throughput ${summary.throughputRunsPerSecond} runs/s (${completed.length} runs in ${(batchSpanMs / 1000).toFixed(2)} s, first POST to last close)`,
    );
    console.log(
      `external calls per run: ${JSON.stringify(callCounts)}; ${unattributed.length} requests not attributed to a run`,
    );
    console.log(
      `${''.padEnd(44)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}${'mean'.padStart(9)}`,
    );
    row('API POST /v1/customers -> 202 (ms)', summary.apiLatencyMs);
    row('end-to-end: POST sent -> workflow closed (ms)', summary.e2eMs);
    row('  POST sent -> workflow started (ms)', summary.startDelayMs);
    row('  workflow started -> closed (ms)', summary.workflowMs);
    row('  POST sent -> result() seen here (ms)', summary.resultObservedMs);
    row('critical path, measured at simulators (ms)', summary.externalMs);
    row('overhead = e2e - critical path (ms)', summary.overheadMs);
    row('overhead per external call (ms)', summary.overheadPerCallMs);
    row('overhead vs injected (e2e - calls*latency)', summary.overheadVsInjectedMs);
    row('  where: activity schedule-to-start (ms)', summary.breakdownMs.activityQueue);
    row('  where: activity exec - external (ms)', summary.breakdownMs.activityClient);
    row('  where: workflow task queue wait (ms)', summary.breakdownMs.workflowTaskQueue);
    row('  where: workflow task processing (ms)', summary.breakdownMs.workflowTaskRun);
    console.log(
      `activity retries in the batch: ${summary.retries}; simulator statuses ${JSON.stringify(statuses)}`,
    );
    if (apiErrors.length) {
      console.log(
        `API errors (first 3): ${apiErrors
          .slice(0, 3)
          .map((r) => `${r.apiStatus ?? '-'} ${r.apiError}`)
          .join(' | ')}`,
      );
    }
    if (failed.length)
      console.log(
        `failures (first 3): ${failed
          .slice(0, 3)
          .map((r) => r.failure)
          .join(' | ')}`,
      );
    console.log(
      `CPU during the batch (${cpu.windowS} s, ${cpu.cores} cores): machine ${cpu.machineBusyPct}% busy = ${cpu.machineBusyS} core-s; ` +
        `worker+API process ${cpu.benchProcessS} s, simulators ${cpu.simulatorsChildS} s, Temporal server ${cpu.temporalServerS ?? '?'} s, ` +
        `everything else on the machine ${cpu.otherS} s; ${cpu.stackCpuMsPerRun} ms of CPU per run`,
    );
    console.log(
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
    );

    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `customer-creation-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
          totalMemMb: Math.round(totalmem() / 2 ** 20),
          git: gitState(),
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadAfter,
          settings: {
            customers,
            latencyMs,
            warmup,
            rateLimits,
            codec,
            tuning,
            temporal: process.env.TEMPORAL_ADDRESS
              ? 'external'
              : 'dev server (TestWorkflowEnvironment.createLocal)',
          },
          summary,
          warmupCalls,
          callSequences: sequences,
          byOperation,
          cpu,
          simulatorStatuses: statuses,
          tracedTotals,
          officialRequestLogs: officialLog,
          salesforceApiUsage: dump.sfApiUsage,
          unattributed: unattributed.map((t) => ({
            call: label(t),
            status: t.status,
            durationMs: t.durationMs,
          })),
          apiErrors: apiErrors.map((r) => ({
            reference: r.reference,
            status: r.apiStatus,
            error: r.apiError,
          })),
          failures: failed.map((r) => ({ reference: r.reference, failure: r.failure })),
          runs: perRun.map(({ callSequence: _c, ...rest }) => rest),
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`results written to ${join('bench', 'results', file.slice(dir.length + 1))}`);
  } finally {
    await cleanup();
    clearTimeout(deadline);
  }
}

if (process.argv.includes('--simulators')) {
  serveSimulators().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('customer-creation benchmark failed:', err);
      process.exit(1);
    },
  );
}
