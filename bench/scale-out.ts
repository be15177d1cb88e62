/**
 * Scale-out benchmark and chaos check on the local Temporal cluster (a script, not a test):
 *
 *   npm run cluster:start && npx tsx bench/scale-out.ts
 *
 * Every process is the production one, started as its own OS process: the simulators
 * (`src/simulators/main.ts`, ephemeral ports, fixed latency per call), the API (`src/api/server.ts`)
 * and 1, 2, 3 worker processes (`src/workers/main.ts`), against the cluster of scripts/cluster.sh
 * (PostgreSQL + the history process + the frontend/matching/worker process). For each worker count,
 * SCALE_CUSTOMERS customers are POSTed at once; reported: throughput, end-to-end p50/p99 (POST sent ->
 * workflow close), CPU per process (share of one core over the batch), activities per worker process
 * (from the histories' ActivityTaskStarted identities).
 *
 * Then the chaos run (SCALE_CHAOS=0 skips it): a batch with SCALE_CHAOS_WORKERS workers, during which
 * each worker in turn gets SIGTERM (and is replaced once it has exited), then the cluster's history
 * process gets SIGTERM and is started again by scripts/cluster.sh. Checked afterwards: every run
 * completed, and each reference has exactly one Salesforce Account, one SAP customer and one
 * customer.created webhook (distinct webhook-id) at the simulators.
 *
 * Env: SCALE_WORKERS (1,2,3), SCALE_CUSTOMERS (150), BENCH_LATENCY_MS (20), SCALE_CHAOS (1),
 * SCALE_CHAOS_WORKERS (3), SCALE_CHAOS_CUSTOMERS (300), TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (default:
 * from `scripts/cluster.sh env`), CLUSTER_DIR (where the cluster's pid files are). Results in
 * bench/results/scale-out-<time>.json. A bad setting, or any argument, prints the usage and exits 2.
 */
import { Client, Connection } from '@temporalio/client';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { SIMULATOR_PORT_ENV } from '../src/simulators/index';
import { loadConfig } from '../src/config';
import { projectDataConverter } from '../src/security/data-converter';
import { procCpuMs } from './support/proc';
import { envSettingsOrExit, intArg, oneOf } from './support/stack';

const root = resolve(__dirname, '..');
const clusterDir = process.env.CLUSTER_DIR ?? join(root, '.data/cluster');
const API_TOKEN = 'bench-token-0123456789abcdef';
const WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';

const USAGE =
  'usage: [SCALE_WORKERS=1,2,3] [SCALE_CUSTOMERS=150] [BENCH_LATENCY_MS=20] [SCALE_CHAOS=1|0] ' +
  '[SCALE_CHAOS_WORKERS=3] [SCALE_CHAOS_CUSTOMERS=300] npx tsx bench/scale-out.ts';

/** The SCALE_* and BENCH_* settings (a UsageError names the bad one). */
function settingsFrom(env: NodeJS.ProcessEnv) {
  return {
    workerCounts: (env.SCALE_WORKERS ?? '1,2,3').split(',').map((n) => intArg('SCALE_WORKERS', n, 1, 16)),
    customers: intArg('SCALE_CUSTOMERS', env.SCALE_CUSTOMERS ?? '150', 1),
    latencyMs: intArg('BENCH_LATENCY_MS', env.BENCH_LATENCY_MS ?? '20', 0),
    withChaos: oneOf('SCALE_CHAOS', env.SCALE_CHAOS ?? '1', ['1', '0'] as const) === '1',
    chaosWorkers: intArg('SCALE_CHAOS_WORKERS', env.SCALE_CHAOS_WORKERS ?? '3', 1, 16),
    chaosCustomers: intArg('SCALE_CHAOS_CUSTOMERS', env.SCALE_CHAOS_CUSTOMERS ?? '300', 1),
  };
}

// ---- processes ---------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

function startTsx(name: string, file: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, file)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { name, child, output, exited };
}

async function waitForOutput(p: Proc, pattern: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of p.output) {
      const m = pattern.exec(line);
      if (m) return m;
    }
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited: ${p.output.slice(-5).join(' | ')}`);
    if (Date.now() > deadline) throw new Error(`${p.name}: no ${pattern} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await p.exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** utime + stime of a process, in seconds (0 once it is gone). */
function cpuSeconds(pid: number): number {
  const ms = procCpuMs(pid);
  return Number.isNaN(ms) ? 0 : ms / 1000;
}

/** The cluster's processes: history, frontend(+matching+worker) and every PostgreSQL backend. */
function clusterPids(): Record<string, number[]> {
  const pidFile = (c: string) => {
    const f = join(clusterDir, 'run', `${c}.pid`);
    return existsSync(f) ? [Number(readFileSync(f, 'utf8').trim())] : [];
  };
  const postmaster = join(clusterDir, 'postgres/postmaster.pid');
  const pg: number[] = [];
  if (existsSync(postmaster)) {
    const master = Number(readFileSync(postmaster, 'utf8').split('\n')[0]);
    pg.push(master);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === master) pg.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
  }
  return {
    'temporal history': pidFile('history'),
    'temporal frontend+matching+worker': pidFile('frontend'),
    postgresql: pg,
  };
}

// ---- the system under test ---------------------------------------------------------------------------

interface Simulators {
  proc: Proc;
  urls: Record<
    'salesforce' | 'sap' | 'webhooks' | 'inventory' | 'billing',
    { endpoint: string; admin: string }
  >;
}

async function startSimulators(latencyMs: number): Promise<Simulators> {
  // Every simulator on an ephemeral port (the bench may run beside `npm start`).
  const proc = startTsx(
    'simulators',
    'src/simulators/main.ts',
    Object.fromEntries(Object.values(SIMULATOR_PORT_ENV).map((name) => [name, '0'])),
  );
  await waitForOutput(proc, /admin .*/);
  await new Promise((r) => setTimeout(r, 200)); // the listing is printed in one go; let it arrive
  const urls = {} as Simulators['urls'];
  const lines = proc.output;
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s+(salesforce|sap|webhooks|inventory|billing)\s+(\S+)/.exec(lines[i]!);
    if (!m) continue;
    const admin = lines.slice(i + 1, i + 4).find((l) => /admin /.test(l));
    urls[m[1] as keyof Simulators['urls']] = {
      endpoint: m[2]!,
      admin: /admin (\S+)/.exec(admin ?? '')![1]!.replace(/\/$/, ''),
    };
  }
  for (const sim of Object.values(urls)) {
    const res = await fetch(`${sim.admin}/faults/latency`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fixedMs: latencyMs, jitterMs: 0 }),
    });
    if (!res.ok) throw new Error(`setting latency at ${sim.admin}: HTTP ${res.status}`);
  }
  return { proc, urls };
}

function coordinatorEnv(
  sims: Simulators,
  prefix: string,
  address: string,
  namespace: string,
): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TASK_QUEUE_PREFIX: prefix,
    API_TOKEN,
    LOG_LEVEL: 'WARN',
    SALESFORCE_LOGIN_URL: sims.urls.salesforce.endpoint.replace(/\/services.*$/, ''),
    SAP_ENDPOINT: sims.urls.sap.endpoint,
    WEBHOOK_SUBSCRIBERS: JSON.stringify([
      { name: 'consumer', url: sims.urls.webhooks.endpoint, secret: WEBHOOK_SECRET },
    ]),
    INVENTORY_BASE_URL: sims.urls.inventory.endpoint,
    // The quotas would cap throughput long before the workers do: measure the workers, not the quotas.
    SALESFORCE_RATE_LIMIT_PER_SECOND: '100000',
    SAP_RATE_LIMIT_PER_SECOND: '100000',
    WEBHOOK_RATE_LIMIT_PER_SECOND: '100000',
  };
}

async function startWorker(env: NodeJS.ProcessEnv, index: number): Promise<Proc> {
  const w = startTsx(`worker ${index}`, 'src/workers/main.ts', env);
  await waitForOutput(w, /worker: polling/);
  return w;
}

function customerBody(reference: string) {
  return {
    reference,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `${reference}@example.com`,
    phone: '+44 20 7946 0958',
    company: reference,
    address: { street: '12 Bench Street', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  };
}

interface Batch {
  references: string[];
  sentAt: Map<string, number>;
}

async function postCustomers(apiUrl: string, tag: string, count: number): Promise<Batch> {
  const references = Array.from({ length: count }, (_, i) => `scale-${tag}-${i}`);
  const sentAt = new Map<string, number>();
  await Promise.all(
    references.map(async (reference) => {
      sentAt.set(reference, Date.now());
      const res = await fetch(`${apiUrl}/v1/customers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': reference,
        },
        body: JSON.stringify(customerBody(reference)),
      });
      if (res.status !== 202 && res.status !== 200)
        throw new Error(`POST ${reference}: HTTP ${res.status} ${await res.text()}`);
    }),
  );
  return { references, sentAt };
}

interface RunOutcome {
  reference: string;
  status: string;
  e2eMs: number;
  closeMs: number;
  activityIdentities: string[];
}

async function awaitBatch(client: Client, batch: Batch, timeoutMs: number): Promise<RunOutcome[]> {
  const deadline = Date.now() + timeoutMs;
  return Promise.all(
    batch.references.map(async (reference) => {
      const handle = client.workflow.getHandle(`customer-creation:${reference}`);
      await Promise.race([
        handle.result().catch(() => undefined),
        new Promise((_, fail) =>
          setTimeout(() => fail(new Error(`run ${reference} not closed in time`)), deadline - Date.now()),
        ),
      ]);
      const d = await handle.describe();
      const identities: string[] = [];
      for (const e of (await handle.fetchHistory()).events ?? []) {
        const identity = e.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.push(identity);
      }
      const closeMs = d.closeTime?.getTime() ?? Date.now();
      return {
        reference,
        status: d.status.name,
        e2eMs: closeMs - batch.sentAt.get(reference)!,
        closeMs,
        activityIdentities: identities,
      };
    }),
  );
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

// ---- one measured batch ------------------------------------------------------------------------------

interface Measured {
  workers: number;
  customers: number;
  completed: number;
  wallMs: number;
  throughputPerSec: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  cpuCoresByProcess: Record<string, number>;
  activitiesByWorker: Record<string, number>;
  loadavg1: number;
}

async function measure(
  client: Client,
  sims: Simulators,
  address: string,
  namespace: string,
  workers: number,
  customers: number,
): Promise<Measured> {
  const tag = randomUUID().slice(0, 6);
  const prefix = `scale-${tag}`;
  const env = coordinatorEnv(sims, prefix, address, namespace);
  const apiPort = await freePort();
  const api = startTsx('api', 'src/api/server.ts', { ...env, API_PORT: String(apiPort) });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const ws: Proc[] = [];
  try {
    for (let i = 1; i <= workers; i++) ws.push(await startWorker(env, i));
    await waitForOutput(api, /api: listening/);
    // Warm-up: one run per worker, so sandboxes, sessions and WSDLs exist before the clock starts.
    const warm = await postCustomers(apiUrl, `${tag}-warm`, workers * 2);
    await awaitBatch(client, warm, 120_000);

    const procs: Record<string, number[]> = {
      api: [api.child.pid!],
      simulators: [sims.proc.child.pid!],
      ...Object.fromEntries(ws.map((w, i) => [`worker ${i + 1}`, [w.child.pid!]])),
      ...clusterPids(),
    };
    const before = Object.fromEntries(
      Object.entries(procs).map(([k, pids]) => [k, pids.reduce((s, p) => s + cpuSeconds(p), 0)]),
    );
    const t0 = Date.now();
    const batch = await postCustomers(apiUrl, tag, customers);
    const outcomes = await awaitBatch(client, batch, 600_000);
    const tEnd = Math.max(...outcomes.map((o) => o.closeMs));
    const wallMs = tEnd - t0;
    // PostgreSQL backends come and go: count the ones alive now as well.
    const after = Object.fromEntries(
      Object.entries({ ...procs, ...clusterPids() }).map(([k, pids]) => [
        k,
        pids.reduce((s, p) => s + cpuSeconds(p), 0),
      ]),
    );
    const cpuCoresByProcess = Object.fromEntries(
      Object.keys(after).map((k) => [k, Math.max(0, (after[k]! - (before[k] ?? 0)) / (wallMs / 1000))]),
    );
    const byPid = new Map(ws.map((w, i) => [w.child.pid!, `worker ${i + 1}`]));
    const activitiesByWorker: Record<string, number> = {};
    for (const o of outcomes)
      for (const identity of o.activityIdentities) {
        const name = byPid.get(Number(identity.split('@')[0])) ?? identity;
        activitiesByWorker[name] = (activitiesByWorker[name] ?? 0) + 1;
      }
    const e2e = outcomes.map((o) => o.e2eMs);
    return {
      workers,
      customers,
      completed: outcomes.filter((o) => o.status === 'COMPLETED').length,
      wallMs,
      throughputPerSec: customers / (wallMs / 1000),
      e2eP50Ms: pct(e2e, 50),
      e2eP99Ms: pct(e2e, 99),
      cpuCoresByProcess,
      activitiesByWorker,
      loadavg1: loadavg()[0]!,
    };
  } finally {
    await Promise.all([...ws.map(stop), stop(api)]);
  }
}

// ---- chaos: rolling restart of the workers, then a restart of the history process ----------------------

interface ChaosResult {
  customers: number;
  statuses: Record<string, number>;
  salesforceAccountsPerReference: Record<string, number>;
  sapCustomersPerReference: Record<string, number>;
  webhookIdsPerReference: Record<string, number>;
  violations: string[];
  events: string[];
}

async function chaos(
  client: Client,
  sims: Simulators,
  address: string,
  namespace: string,
  workers: number,
  customers: number,
): Promise<ChaosResult> {
  const tag = `chaos${randomUUID().slice(0, 4)}`;
  const env = coordinatorEnv(sims, `scale-${tag}`, address, namespace);
  const apiPort = await freePort();
  const api = startTsx('api', 'src/api/server.ts', { ...env, API_PORT: String(apiPort) });
  const ws: Proc[] = [];
  const events: string[] = [];
  const note = (s: string) => {
    events.push(`${new Date().toISOString()} ${s}`);
    console.log(`  chaos: ${s}`);
  };
  try {
    for (let i = 1; i <= workers; i++) ws.push(await startWorker(env, i));
    await waitForOutput(api, /api: listening/);
    const batch = await postCustomers(`http://127.0.0.1:${apiPort}`, tag, customers);
    note(`${customers} customers posted`);
    const done = awaitBatch(client, batch, 900_000);
    for (let i = 0; i < ws.length; i++) {
      const old = ws[i]!;
      old.child.kill('SIGTERM');
      note(`SIGTERM to worker ${i + 1} (pid ${old.child.pid})`);
      const code = await old.exited;
      note(`worker ${i + 1} exited (code ${code}); starting its replacement`);
      ws[i] = await startWorker(env, i + 1);
    }
    const historyPid = Number(readFileSync(join(clusterDir, 'run/history.pid'), 'utf8').trim());
    process.kill(historyPid, 'SIGTERM');
    note(`SIGTERM to the history process (pid ${historyPid})`);
    while (cpuSeconds(historyPid) > 0 || existsSync(`/proc/${historyPid}`))
      await new Promise((r) => setTimeout(r, 100));
    note('history exited; scripts/cluster.sh start brings it back');
    execFileSync('bash', [join(root, 'scripts/cluster.sh'), 'start'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    note('history back');
    const outcomes = await done;
    note('every run closed');

    const statuses: Record<string, number> = {};
    for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    const admin = async (sim: keyof Simulators['urls'], query: string) => {
      const res = await fetch(`${sims.urls[sim].admin}/records${query}`);
      return (await res.json()) as Record<string, unknown>[];
    };
    const accounts = await admin('salesforce', '?type=Account');
    const kna1 = await admin('sap', '?table=KNA1');
    const deliveries = await admin('webhooks', '');
    const count = (
      items: unknown[],
      key: (x: Record<string, unknown>) => string | undefined,
      distinct?: (x: Record<string, unknown>) => string,
    ) => {
      const seen = new Map<string, Set<string>>();
      for (const item of items as Record<string, unknown>[]) {
        const ref = key(item);
        if (!ref || !ref.startsWith(`scale-${tag}-`)) continue;
        const set = seen.get(ref) ?? new Set<string>();
        set.add(distinct ? distinct(item) : String(set.size));
        seen.set(ref, set);
      }
      return Object.fromEntries(batch.references.map((r) => [r, seen.get(r)?.size ?? 0]));
    };
    const sf = count(accounts, (a) => a.Integration_Id__c as string | undefined);
    const sap = count(kna1, (c) => batch.references.find((r) => JSON.stringify(c).includes(`"${r}"`)));
    // A reference is a prefix of others (-1 of -10): match it whole, in customer.created deliveries only.
    const refIn = (text: string) => batch.references.find((r) => new RegExp(`"${r}"`).test(text));
    const hooks = count(
      deliveries.filter((d) => d.type === 'customer.created'),
      (d) => refIn(String(d.rawBody)),
      (d) => String(d.webhookId),
    );
    const violations: string[] = [];
    for (const r of batch.references) {
      if (sf[r] !== 1) violations.push(`${r}: ${sf[r]} Salesforce Accounts`);
      if (sap[r] !== 1) violations.push(`${r}: ${sap[r]} SAP customers`);
      if (hooks[r] !== 1) violations.push(`${r}: ${hooks[r]} distinct customer.created webhooks`);
    }
    for (const o of outcomes) if (o.status !== 'COMPLETED') violations.push(`${o.reference}: ${o.status}`);
    return {
      customers,
      statuses,
      salesforceAccountsPerReference: histogram(sf),
      sapCustomersPerReference: histogram(sap),
      webhookIdsPerReference: histogram(hooks),
      violations,
      events,
    };
  } finally {
    await Promise.all([...ws.map(stop), stop(api)]);
  }
}

/** {reference: count} -> {count: how many references} */
function histogram(perRef: Record<string, number>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const n of Object.values(perRef)) h[String(n)] = (h[String(n)] ?? 0) + 1;
  return h;
}

// ---- main --------------------------------------------------------------------------------------------------

function clusterAddress(): { address: string; namespace: string } {
  if (process.env.TEMPORAL_ADDRESS)
    return { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' };
  const out = execFileSync('bash', [join(root, 'scripts/cluster.sh'), 'env'], { encoding: 'utf8' });
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(out)?.[1];
  return { address: get('TEMPORAL_ADDRESS')!, namespace: get('TEMPORAL_NAMESPACE') ?? 'default' };
}

async function main(): Promise<void> {
  const { workerCounts, customers, latencyMs, withChaos, chaosWorkers, chaosCustomers } = envSettingsOrExit(
    settingsFrom,
    USAGE,
  );
  const { address, namespace } = clusterAddress();
  console.log(
    `scale-out on ${address} (namespace ${namespace}), ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}; ` +
      `${customers} customers per batch, ${latencyMs} ms per external call`,
  );
  const connection = await Connection.connect({ address });
  // The workers encrypt payloads with the configured keyring; so does this client.
  const dataConverter = projectDataConverter(loadConfig(process.env).payloadKeyring);
  const client = new Client({ connection, namespace, dataConverter });
  const sims = await startSimulators(latencyMs);
  const results: Measured[] = [];
  let chaosResult: ChaosResult | undefined;
  try {
    for (const n of workerCounts) {
      console.log(`- ${n} worker process(es)...`);
      const m = await measure(client, sims, address, namespace, n, customers);
      results.push(m);
      console.log(
        `  ${m.completed}/${m.customers} completed, ${m.throughputPerSec.toFixed(1)} customers/s, ` +
          `p50 ${m.e2eP50Ms} ms, p99 ${m.e2eP99Ms} ms, load ${m.loadavg1.toFixed(1)}`,
      );
      console.log(
        `  CPU (cores): ${Object.entries(m.cpuCoresByProcess)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}`,
      );
      console.log(
        `  activities: ${Object.entries(m.activitiesByWorker)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
    if (withChaos) {
      console.log(
        `- chaos: ${chaosCustomers} customers, ${chaosWorkers} workers, rolling restart, then history restart`,
      );
      chaosResult = await chaos(client, sims, address, namespace, chaosWorkers, chaosCustomers);
      console.log(`  run statuses: ${JSON.stringify(chaosResult.statuses)}`);
      console.log(
        `  per reference (count: references): Salesforce Accounts ${JSON.stringify(chaosResult.salesforceAccountsPerReference)}, ` +
          `SAP customers ${JSON.stringify(chaosResult.sapCustomersPerReference)}, ` +
          `webhook ids ${JSON.stringify(chaosResult.webhookIdsPerReference)}`,
      );
      console.log(
        chaosResult.violations.length === 0
          ? '  nothing lost, nothing duplicated'
          : `  VIOLATIONS:\n    ${chaosResult.violations.slice(0, 20).join('\n    ')}`,
      );
    }
  } finally {
    await stop(sims.proc);
    await connection.close();
  }
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, `bench/results/scale-out-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ address, latencyMs, results, chaos: chaosResult }, null, 2));
  console.log(`results: ${file}`);
  if (chaosResult && chaosResult.violations.length > 0) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(`scale-out: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
