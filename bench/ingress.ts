/**
 * Latency benchmark of the webhook ingress (not a test): `npx tsx bench/ingress.ts`.
 *
 * A real Temporal dev server (the binary the tests use), the API app on an ephemeral loopback port with
 * `/webhooks/inventory`, and a load generator in a child process (its own event loop) that sends signed
 * `inventory.stock_changed` events at a FIXED rate over keep-alive HTTP, spread over a bounded set of
 * SKUs. Open loop: a request goes out on schedule whether or not earlier ones were answered, so a slow
 * server shows up as latency ("from schedule") instead of silently lowering the rate. Afterwards the
 * parent times bare `signalWithStart` calls on the same server, to tell the HTTP layer's cost from
 * Temporal's. Prints p50/p95/p99 and writes JSON to bench/results/ (git-ignored).
 *
 * Env: BENCH_RATE (events/s, default 200), BENCH_DURATION_MS (10000), BENCH_WARMUP_MS (2000),
 * BENCH_SKUS (50), BENCH_MAX_IN_FLIGHT (256: beyond it a send is counted as dropped, keeping the load bounded),
 * all whole numbers; a bad one, or any argument, prints the usage and exits 2.
 */
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { fork } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createApp } from '../src/api/app';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { entityEventSignal } from '../src/workflows/entity-sync.messages';
import type { EntityEvent } from '../src/workflows/entity-sync.messages';
import { allSearchAttributes, BusinessKey, IntegrationFlow } from '../src/workflows/shared/search-attributes';
import { envIntegersOrExit } from './support/stack';

interface LoadConfig {
  url: string;
  secret: string;
  rate: number;
  durationMs: number;
  warmupMs: number;
  skus: number;
  maxInFlight: number;
  runTag: string;
}

interface LoadResult {
  sent: number;
  measured: number;
  dropped: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  achievedRate: number;
  latencyMs: Stats;
  fromScheduleMs: Stats;
}

interface Stats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function stats(values: number[]): Stats {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted.length
      ? sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!
      : NaN;
  const round = (n: number) => Math.round(n * 100) / 100;
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
  return {
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
    mean: round(mean),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// Child: the load generator.

async function generateLoad(cfg: LoadConfig): Promise<LoadResult> {
  const url = new URL(cfg.url);
  const key = Buffer.from(cfg.secret.slice('whsec_'.length), 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const intervalMs = 1000 / cfg.rate;
  const total = Math.round(((cfg.warmupMs + cfg.durationMs) / 1000) * cfg.rate);
  const latencies: number[] = [];
  const fromSchedule: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  const send = (n: number, scheduledAt: number, measure: boolean) => {
    const sku = `BENCH-${cfg.runTag}-${n % cfg.skus}`;
    const id = `evt_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      type: 'inventory.stock_changed',
      timestamp: new Date().toISOString(),
      data: {
        sku,
        warehouse: '1000',
        quantity: n % 1000,
        previousQuantity: (n + 999) % 1000,
        version: n + 1,
        changedAt: new Date().toISOString(),
        source: 'warehouse',
      },
    });
    const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    const t0 = performance.now();
    inFlight++;
    const p = new Promise<void>((resolve) => {
      const done = (status: string) => {
        inFlight--;
        if (measure) {
          const end = performance.now();
          latencies.push(end - t0);
          fromSchedule.push(end - scheduledAt);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status !== '200') errors++;
        }
        resolve();
      };
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': `v1,${signature}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => done(String(res.statusCode)));
          res.on('error', () => done('response-error'));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'error'));
      req.end(body);
    }).finally(() => pending.delete(p));
    pending.add(p);
  };

  const start = performance.now();
  const measureFrom = start + cfg.warmupMs;
  for (let n = 0; n < total; n++) {
    const scheduledAt = start + n * intervalMs;
    const wait = scheduledAt - performance.now();
    if (wait > 1) await sleep(wait);
    const measure = scheduledAt >= measureFrom;
    if (inFlight >= cfg.maxInFlight) {
      if (measure) dropped++;
      continue;
    }
    send(n, scheduledAt, measure);
  }
  const lastScheduled = start + (total - 1) * intervalMs;
  await Promise.all([...pending]);
  agent.destroy();
  const measuredWindow = lastScheduled - measureFrom + intervalMs;
  return {
    sent: total - dropped,
    measured: latencies.length,
    dropped,
    errors,
    statuses,
    elapsedMs: Math.round(measuredWindow),
    achievedRate: Math.round((statuses['200'] ?? 0) / (measuredWindow / 1000)),
    latencyMs: stats(latencies),
    fromScheduleMs: stats(fromSchedule),
  };
}

function runChild(): void {
  process.once('message', (cfg: LoadConfig) => {
    generateLoad(cfg).then(
      (result) => process.send?.({ type: 'result', result }, () => process.exit(0)),
      (err: unknown) => process.send?.({ type: 'error', message: String(err) }, () => process.exit(1)),
    );
  });
}

// ---------------------------------------------------------------------------------------------------
// Parent: Temporal, the API, the child, and a direct signalWithStart comparison.

/**
 * The same load without HTTP: signalWithStart calls fired open-loop at `rate` from this process, over
 * `skus` workflows, so the ingress's own cost (HTTP, verification, parsing) can be told from Temporal's.
 */
async function directSignalWithStart(
  client: Client,
  queue: string,
  runTag: string,
  rate: number,
  durationMs: number,
  skus: number,
): Promise<{ calls: number; errors: number; latencyMs: Stats }> {
  const latencies: number[] = [];
  let errors = 0;
  const calls: Promise<void>[] = [];
  const total = Math.round((durationMs / 1000) * rate);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    const sku = `DIRECT-${runTag}-${i % skus}`;
    const event: EntityEvent = {
      eventId: `direct_${randomUUID()}`,
      source: 'inventory',
      kind: 'inventory.stock_changed',
      recordId: sku,
      occurredAt: new Date().toISOString(),
      origin: 'warehouse',
      fields: { sku, quantity: i },
      receivedAt: new Date().toISOString(),
    };
    const t0 = performance.now();
    calls.push(
      client.workflow
        .signalWithStart('inventorySync', {
          workflowId: `inventory:${sku}`,
          taskQueue: queue,
          args: [
            { route: { workflowType: 'inventorySync', workflowId: `inventory:${sku}`, businessKey: sku } },
          ],
          signal: entityEventSignal,
          signalArgs: [event],
          typedSearchAttributes: [
            { key: IntegrationFlow, value: 'event-sync' },
            { key: BusinessKey, value: sku },
          ],
        })
        .then(
          () => void latencies.push(performance.now() - t0),
          () => void errors++,
        ),
    );
  }
  await Promise.all(calls);
  return { calls: total, errors, latencyMs: stats(latencies) };
}

const USAGE =
  'usage: [BENCH_RATE=200] [BENCH_DURATION_MS=10000] [BENCH_WARMUP_MS=2000] [BENCH_SKUS=50] [BENCH_MAX_IN_FLIGHT=256] npx tsx bench/ingress.ts';

async function main(): Promise<void> {
  const {
    BENCH_RATE: rate,
    BENCH_DURATION_MS: durationMs,
    BENCH_WARMUP_MS: warmupMs,
    BENCH_SKUS: skus,
    BENCH_MAX_IN_FLIGHT: maxInFlight,
  } = envIntegersOrExit(
    {
      BENCH_RATE: { default: 200, min: 1 },
      BENCH_DURATION_MS: { default: 10_000, min: 1 },
      BENCH_WARMUP_MS: { default: 2_000, min: 0 },
      BENCH_SKUS: { default: 50, min: 1 },
      BENCH_MAX_IN_FLIGHT: { default: 256, min: 1 },
    },
    USAGE,
  );
  const runTag = randomUUID().slice(0, 8);
  const prefix = `bench-ingress-${runTag}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;

  console.log(
    `ingress benchmark: ${rate} events/s for ${durationMs} ms (+${warmupMs} ms warm-up) over ${skus} SKUs, ` +
      `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`,
  );
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: resolveTemporalExecutable(),
      searchAttributes: [...allSearchAttributes],
      log: { format: 'pretty', level: 'error' },
    },
  });
  const client = env.client;
  const app = await createApp({
    temporalClient: client,
    settings: {
      apiToken: randomBytes(16).toString('hex'),
      taskQueuePrefix: prefix,
      temporalUiUrl: 'http://127.0.0.1:8233',
      connectivityTargets: [],
      webhooks: {
        secrets: { salesforce: secret, sap: secret, inventory: secret },
        idleTimeout: '10m',
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  // Times every signalWithStart the ingress makes, so the HTTP latency can be split into Temporal's
  // round trip and the ingress's own work (HTTP, signature, parsing).
  const temporalMs: number[] = [];
  const signalWithStart = client.workflow.signalWithStart.bind(client.workflow);
  client.workflow.signalWithStart = (async (...args: Parameters<typeof signalWithStart>) => {
    const t0 = performance.now();
    try {
      return await signalWithStart(...args);
    } finally {
      temporalMs.push(performance.now() - t0);
    }
  }) as typeof signalWithStart;
  const url = `http://127.0.0.1:${port}/webhooks/inventory`;

  try {
    // fork() inherits tsx's loader through execArgv, so the child runs this same .ts file.
    const child = fork(__filename, ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const cfg: LoadConfig = { url, secret, rate, durationMs, warmupMs, skus, maxInFlight, runTag };
    const loadBefore = loadavg()[0]!;
    if (loadBefore > cpus().length) {
      console.log(
        `  (warning: 1-min load average ${loadBefore.toFixed(2)} exceeds the ${cpus().length} CPUs: other work is running, figures will be inflated)`,
      );
    }
    const cpuBefore = process.cpuUsage();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const load = await new Promise<LoadResult>((resolve, reject) => {
      child.once(
        'message',
        (msg: { type: 'result'; result: LoadResult } | { type: 'error'; message: string }) =>
          msg.type === 'result' ? resolve(msg.result) : reject(new Error(msg.message)),
      );
      child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
      child.send(cfg);
    });

    loopDelay.disable();
    const apiLoopDelayP99Ms = Math.round(loopDelay.percentile(99) / 1e4) / 100;
    const cpu = process.cpuUsage(cpuBefore);
    const apiCpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / (warmupMs + durationMs)) * 100);
    const loadAfter = loadavg()[0]!;
    // The first `warmup` calls are the warm-up's; the measured window is the rest.
    const inRequest = stats(temporalMs.slice(Math.round((warmupMs / 1000) * rate)));
    console.log(
      `- HTTP answer latency: p50 ${load.latencyMs.p50} ms, p95 ${load.latencyMs.p95} ms, p99 ${load.latencyMs.p99} ms, ` +
        `max ${load.latencyMs.max} ms (from schedule: p99 ${load.fromScheduleMs.p99} ms)`,
    );
    console.log(
      `- achieved ${load.achievedRate} events/s answered 200 of ${rate} requested; ${load.measured} measured, ` +
        `${load.dropped} dropped (in-flight cap), statuses ${JSON.stringify(load.statuses)}`,
    );
    console.log(
      `- of which signalWithStart inside the handler: p50 ${inRequest.p50} ms, p95 ${inRequest.p95} ms, ` +
        `p99 ${inRequest.p99} ms; API process CPU ${apiCpuPercent}% of one core, event-loop delay p99 ${apiLoopDelayP99Ms} ms; ` +
        `1-min load average ${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)} on ${cpus().length} CPUs`,
    );
    const direct = await directSignalWithStart(
      client,
      `${prefix}.coordinator`,
      runTag,
      rate,
      durationMs / 2,
      skus,
    );
    console.log(
      `- bare signalWithStart at ${rate}/s, no HTTP (${direct.calls} calls, ${direct.errors} errors): ` +
        `p50 ${direct.latencyMs.p50} ms, p95 ${direct.latencyMs.p95} ms, p99 ${direct.latencyMs.p99} ms`,
    );

    const results = {
      benchmark: 'ingress',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      config: { rate, durationMs, warmupMs, skus, maxInFlight, route: '/webhooks/inventory' },
      load,
      signalWithStartInHandlerMs: inRequest,
      apiProcessCpuPercent: apiCpuPercent,
      apiEventLoopDelayP99Ms: apiLoopDelayP99Ms,
      loadAverage1m: { before: loadBefore, after: loadAfter },
      directSignalWithStart: direct,
      targetP99Ms: 50,
      metTarget: load.latencyMs.p99 < 50 && load.dropped === 0 && load.errors === 0,
    };
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `ingress-${results.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`- results: bench/results/${file.slice(dir.length + 1)}`);
  } finally {
    await app.close();
    await env.teardown();
  }
}

if (process.argv.includes('--load')) runChild();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
