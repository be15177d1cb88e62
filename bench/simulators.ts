/**
 * Throughput / latency benchmark of the simulators (not a test): `npx tsx bench/simulators.ts`.
 *
 * Each simulator runs in its own child process so the load generator and the server never share an
 * event loop; the parent drives a bounded load (N concurrent keep-alive loops for a fixed duration)
 * over loopback with one representative request per simulator, then prints requests/s and p50/p99 and
 * writes JSON to bench/results/ (git-ignored).
 *
 * Env: BENCH_DURATION_MS (default 5000), BENCH_WARMUP_MS (1000), BENCH_CONCURRENCY (32),
 * BENCH_ONLY (comma-separated simulator names). A bad setting, or any argument, prints the usage and
 * exits 2.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { envSettingsOrExit, intArg, oneOf } from './support/stack';

type SimName = 'salesforce' | 'sap' | 'webhook-consumer' | 'inventory';
const ALL: SimName[] = ['salesforce', 'sap', 'webhook-consumer', 'inventory'];

interface RequestSpec {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Scenario {
  /** What is measured, for the report. */
  description: string;
  /** Factory module (relative to this file) and export name. */
  module: string;
  factory: string;
  /** Factory options: dev defaults, except what would distort a throughput run. */
  options?: Record<string, unknown>;
  /** One-time setup over HTTP (tokens, a record to read); returns the request maker. */
  prepare(baseUrl: string): Promise<() => RequestSpec>;
}

interface ChildReady {
  type: 'ready';
  url: string;
}
interface ChildMissing {
  type: 'missing';
  reason: string;
}
type ChildMessage = ChildReady | ChildMissing;

const SF_LOGIN = { clientId: 'dev-client', clientSecret: 'dev-secret' };
const SAP_AUTH = { user: 'DEV_USER', password: 'dev-password' };
const WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';
const INVENTORY_KEY = 'dev-inventory-key';

const scenarios: Record<SimName, Scenario> = {
  salesforce: {
    description: 'GET /services/data/v60.0/sobjects/Account/<id> with a Bearer token',
    module: '../src/simulators/salesforce',
    factory: 'createSalesforceSimulator',
    // The daily API allowance (default 15 000) would turn most of a run into 403 REQUEST_LIMIT_EXCEEDED.
    options: { dailyApiLimit: 1_000_000_000 },
    async prepare(baseUrl) {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: SF_LOGIN.clientId,
        client_secret: SF_LOGIN.clientSecret,
      });
      const token = await once(baseUrl, {
        method: 'POST',
        path: '/services/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      const { access_token: accessToken } = JSON.parse(token) as { access_token: string };
      const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
      const created = await once(baseUrl, {
        method: 'POST',
        path: '/services/data/v60.0/sobjects/Account',
        headers: auth,
        body: JSON.stringify({ Name: 'Bench Account' }),
      });
      const { id } = JSON.parse(created) as { id: string };
      const spec = { method: 'GET', path: `/services/data/v60.0/sobjects/Account/${id}`, headers: auth };
      return () => spec;
    },
  },
  sap: {
    description: 'POST BAPI_CUSTOMER_GETDETAIL2 SOAP envelope with Basic auth',
    module: '../src/simulators/sap',
    factory: 'createSapSimulator',
    async prepare(baseUrl) {
      const headers = {
        authorization: `Basic ${Buffer.from(`${SAP_AUTH.user}:${SAP_AUTH.password}`).toString('base64')}`,
        'content-type': 'text/xml; charset=utf-8',
        soapaction: '"urn:sap-com:document:sap:rfc:functions:BAPI_CUSTOMER_GETDETAIL2"',
      };
      const envelope = (fm: string, inner: string) =>
        '<?xml version="1.0" encoding="utf-8"?>' +
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' +
        'xmlns:urn="urn:sap-com:document:sap:rfc:functions"><soap:Body>' +
        `<urn:${fm}>${inner}</urn:${fm}></soap:Body></soap:Envelope>`;
      const body = envelope('BAPI_CUSTOMER_GETDETAIL2', '<CUSTOMERNO>0000100000</CUSTOMERNO>');
      const spec = { method: 'POST', path: SAP_PATH, headers, body };
      await once(baseUrl, spec); // fail early if the endpoint or credentials are wrong
      return () => spec;
    },
  },
  'webhook-consumer': {
    description: 'POST /hooks/default, Standard Webhooks signed, a unique webhook-id per request',
    module: '../src/simulators/webhook-consumer',
    factory: 'createWebhookConsumerSimulator',
    prepare() {
      const key = Buffer.from(WEBHOOK_SECRET.slice('whsec_'.length), 'base64');
      let n = 0;
      return Promise.resolve(() => {
        const id = `msg_bench_${process.pid}_${++n}`;
        const ts = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({
          type: 'customer.created',
          timestamp: new Date().toISOString(),
          data: { id: `C-${n}` },
        });
        const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
        return {
          method: 'POST',
          path: '/hooks/default',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': `v1,${sig}`,
          },
          body,
        };
      });
    },
  },
  inventory: {
    description: 'GET /v1/stock/MAT-1000 with x-api-key',
    module: '../src/simulators/inventory',
    factory: 'createInventorySimulator',
    prepare() {
      const spec = { method: 'GET', path: '/v1/stock/MAT-1000', headers: { 'x-api-key': INVENTORY_KEY } };
      return Promise.resolve(() => spec);
    },
  },
};

/** SAP RFC SOAP endpoint of the simulator (SAP's generic RFC SOAP service path). */
const SAP_PATH = '/sap/bc/soap/rfc';

// ---------------------------------------------------------------------------------------------------
// Child: start one simulator and report its URL.

interface StartableSimulator {
  start(opts: { port: number; host: string }): Promise<{ url: string; stop(): Promise<void> }>;
}

async function serve(name: SimName): Promise<void> {
  const scenario = scenarios[name];
  let mod: Record<string, unknown>;
  try {
    // A computed specifier: a simulator that does not exist yet is skipped, not a compile error.
    const specifier: string = scenario.module;
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const absent =
      code === 'ERR_UNSUPPORTED_DIR_IMPORT' || code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    send({
      type: 'missing',
      reason: absent
        ? `${scenario.module.replace('../', '')} has no index module (simulator not built yet)`
        : `${scenario.module} failed to load: ${(err as Error).message}`,
    });
    return;
  }
  const factory = mod[scenario.factory];
  if (typeof factory !== 'function') {
    send({ type: 'missing', reason: `${scenario.module} does not export ${scenario.factory}()` });
    return;
  }
  const sim = (factory as (options?: Record<string, unknown>) => StartableSimulator)(scenario.options);
  const running = await sim.start({ port: 0, host: '127.0.0.1' });
  process.on('disconnect', () => {
    void running.stop().finally(() => process.exit(0));
  });
  send({ type: 'ready', url: running.url });
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

// ---------------------------------------------------------------------------------------------------
// Parent: drive the load.

interface Result {
  simulator: SimName;
  description: string;
  concurrency: number;
  durationMs: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

function once(baseUrl: string, spec: RequestSpec, agent?: Agent): Promise<string> {
  return exchange(baseUrl, spec, agent).then(({ status, body }) => {
    if (status < 200 || status >= 300)
      throw new Error(`${spec.method} ${spec.path} -> ${status}: ${body.slice(0, 300)}`);
    return body;
  });
}

function exchange(
  baseUrl: string,
  spec: RequestSpec,
  agent?: Agent,
): Promise<{ status: number; body: string }> {
  const url = new URL(spec.path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: spec.method,
        headers:
          spec.body === undefined
            ? spec.headers
            : { ...spec.headers, 'content-length': Buffer.byteLength(spec.body) },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(spec.body);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

async function drive(
  name: SimName,
  baseUrl: string,
  next: () => RequestSpec,
  concurrency: number,
  warmupMs: number,
  durationMs: number,
): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let recording = false;
  let stopping = false;

  const loop = async () => {
    while (!stopping) {
      const spec = next();
      const t0 = performance.now();
      let status: string;
      try {
        status = String((await exchange(baseUrl, spec, agent)).status);
      } catch (err) {
        status = (err as NodeJS.ErrnoException).code ?? 'error';
      }
      if (!recording) continue;
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (!/^2\d\d$/.test(status)) errors++;
    }
  };

  const loops = Array.from({ length: concurrency }, () => loop());
  await sleep(warmupMs);
  recording = true;
  const start = performance.now();
  await sleep(durationMs);
  recording = false;
  const elapsed = performance.now() - start;
  stopping = true;
  await Promise.all(loops);
  agent.destroy();

  const sorted = Float64Array.from(latencies).sort();
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    simulator: name,
    description: scenarios[name].description,
    concurrency,
    durationMs: Math.round(elapsed),
    requests: latencies.length,
    errors,
    statuses,
    requestsPerSecond: Math.round((latencies.length / elapsed) * 1000),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function startChild(name: SimName): Promise<{ child: ChildProcess; msg: ChildMessage }> {
  // fork() inherits this process's execArgv, i.e. tsx's loader, so the child runs the same .ts file.
  const child = fork(__filename, ['--serve', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: child did not report within 30 s`)), 30_000);
    child.once('message', (msg: ChildMessage) => {
      clearTimeout(timer);
      resolve({ child, msg });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: child exited with code ${code} before reporting`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.disconnect();
  });
}

const USAGE = `usage: [BENCH_DURATION_MS=5000] [BENCH_WARMUP_MS=1000] [BENCH_CONCURRENCY=32] [BENCH_ONLY=${ALL.join(',')}] npx tsx bench/simulators.ts`;

/** The BENCH_* settings (a UsageError names the bad one). */
function settingsFrom(env: NodeJS.ProcessEnv) {
  const only = env.BENCH_ONLY?.split(',').map((s) => oneOf('BENCH_ONLY', s.trim(), ALL));
  return {
    durationMs: intArg('BENCH_DURATION_MS', env.BENCH_DURATION_MS ?? '5000', 1),
    warmupMs: intArg('BENCH_WARMUP_MS', env.BENCH_WARMUP_MS ?? '1000', 0),
    concurrency: intArg('BENCH_CONCURRENCY', env.BENCH_CONCURRENCY ?? '32', 1, 10_000),
    only,
  };
}

async function main(): Promise<void> {
  const { durationMs, warmupMs, concurrency, only } = envSettingsOrExit(settingsFrom, USAGE);
  const targets = ALL.filter((n) => !only || only.includes(n));

  console.log(
    `simulator benchmark: ${concurrency} keep-alive loops, ${warmupMs} ms warm-up + ${durationMs} ms measured, ` +
      `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`,
  );
  const results: Result[] = [];
  const skipped: { simulator: SimName; reason: string }[] = [];

  for (const name of targets) {
    let started: { child: ChildProcess; msg: ChildMessage };
    try {
      started = await startChild(name);
    } catch (err) {
      skipped.push({ simulator: name, reason: (err as Error).message });
      console.log(`- ${name}: skipped (${(err as Error).message})`);
      continue;
    }
    const { child, msg } = started;
    try {
      if (msg.type === 'missing') {
        skipped.push({ simulator: name, reason: msg.reason });
        console.log(`- ${name}: skipped (${msg.reason})`);
        continue;
      }
      const next = await scenarios[name].prepare(msg.url);
      const r = await drive(name, msg.url, next, concurrency, warmupMs, durationMs);
      results.push(r);
      console.log(
        `- ${name.padEnd(17)} ${String(r.requestsPerSecond).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  ` +
          `p99 ${r.p99Ms.toFixed(2)} ms  (${r.requests} requests, statuses ${JSON.stringify(r.statuses)}; ${r.description})`,
      );
    } catch (err) {
      skipped.push({ simulator: name, reason: (err as Error).message });
      console.log(`- ${name}: failed (${(err as Error).message})`);
    } finally {
      await stopChild(child);
    }
  }

  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `simulators-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        concurrency,
        warmupMs,
        durationMs,
        results,
        skipped,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results written to ${join('bench', 'results', file.slice(dir.length + 1))}`);
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex >= 0) {
  const name = process.argv[serveIndex + 1] as SimName;
  serve(name).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
