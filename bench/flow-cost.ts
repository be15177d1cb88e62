/**
 * What a durable customer flow costs, against what it would cost without durability and against the
 * engine's own floor: `npx tsx bench/flow-cost.ts [options]` (`--help` lists them). A script, not a
 * test; docs/benchmarks.md explains the method and shows the figures.
 *
 * Every piece is a process of its own, as `npm start` runs them: the Temporal dev server (the same
 * command line and file store as `npm start`, src/dev/dev-server.ts), the simulators, the project's
 * worker (src/workers/main.ts) and API (src/api/server.ts), the no-durability coordinator and the
 * engine-floor worker (bench/flow-cost/), and the load generator (bench/load-generator.ts). CPU time
 * and RSS of each are read from /proc (Linux only).
 *
 * Arms, measured in one run against the same server and simulators, interleaved rate by rate:
 *  - `no-durability`: the same calls with the same clients in a plain HTTP service, hand-written retry;
 *  - `floor`: a workflow of the same shape whose activities do nothing;
 *  - `project`: POST /v1/customers to the API, the customer-creation workflow on the worker.
 */
import { Client, Connection } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { devServerArgs } from '../src/dev/dev-server';
import { startProcess, stopProcess, waitUntil } from '../src/dev/processes';
import { procCpuMs, procRssMb } from './support/proc';
import type { ManagedProcess } from '../src/dev/processes';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import {
  customerCreationWorkflowId,
  customerCreationWorkflowType,
} from '../src/workflows/customer-creation.messages';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import type { Arrival, RunRequest, Target } from './load-generator';
import { renderLatencyPlot } from './flow-cost/plot';
import type { PlotSeries } from './flow-cost/plot';
import { loadConfig } from '../src/config';
import { projectDataConverter } from '../src/security/data-converter';
import { workerNodeFlags } from '../src/workers/main-thread-heap';

const root = resolve(__dirname, '..');
const API_TOKEN = 'bench-api-token-0123456789';
const WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';
/** External calls of one customer flow (docs/benchmarks.md lists them). */
const EXTERNAL_CALLS = 8;

type Arm = 'no-durability' | 'floor' | 'project';
type RateLimits = 'off' | 'config';
const ARMS: readonly Arm[] = ['no-durability', 'floor', 'project'];

interface Options {
  rates: number[];
  stepSeconds: number;
  arms: Arm[];
  rateLimits: RateLimits[];
  single: number;
  latencyMs: number;
  floorShape: string;
  inflight: number;
  env: Record<string, string>;
  cpuProf: boolean;
  out: string;
  drainSeconds: number;
}

/**
 * The project's customer flow with rate limits off: activities (`a`) and local activities (`l`) in
 * order (Salesforce lookup, upsert, SAP lookup, create, billing switch, write-back, subscriber list,
 * webhook). The floor workflow runs this shape with activities that do nothing. With limits on, the
 * lookups are activities on their systems' queues (`aaaalala`).
 */
const PROJECT_SHAPE = 'lalalala';
/**
 * The same with the project's search-attribute upserts (`u`), one per workflow task as its history
 * shows: the step and ids before each activity, the last step at the end.
 */
const PROJECT_SHAPE_WITH_UPSERTS = 'lualualuaulau';

const USAGE = `usage: npx tsx bench/flow-cost.ts [options]

  --quick                 short run: rates 2,5,10, 8 s steps, 3 single flows, rate limits off only
  --rates R1,R2,...       offered arrival rates in flows/s, stepped up in order (default 2,5,10,15,20,25,30)
  --step-seconds S        seconds of arrivals per rate step (default 20)
  --arms A,B,...          any of ${ARMS.join(', ')} (default all)
  --rate-limits L,...     off, config or both (default off,config): config runs the project arm again
                          with the per-system limits as configured by default
  --single N              flows run one at a time per arm, for the single-flow overhead (default 5; 0 skips)
  --latency-ms MS         latency the simulators add to every call (default 20)
  --floor-shape SHAPE     the floor workflow's steps, a = activity, l = local activity, u = search-attribute
                          upsert sent with the next step (default ${PROJECT_SHAPE}; the project's upserts
                          too: ${PROJECT_SHAPE_WITH_UPSERTS})
  --inflight N            also burst N flows with 4 s simulator latency and report the worker's RSS
                          with them in flight (default 0: skipped)
  --env KEY=VALUE         set in the environment of the project's worker and API (repeatable), e.g. a
                          codec or metrics setting whose cost you want to measure
  --cpu-prof              run the project's worker and API under node --cpu-prof (profiles in the output dir)
  --drain-seconds S       how long a step may take to finish its flows before the arm counts as
                          saturated (default 60)
  --out DIR               output directory (default bench/results/flow-cost-<time>)
  --help                  this text`;

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rates: [2, 5, 10, 15, 20, 25, 30],
    stepSeconds: 20,
    arms: [...ARMS],
    rateLimits: ['off', 'config'],
    single: 5,
    latencyMs: 20,
    floorShape: PROJECT_SHAPE,
    inflight: 0,
    env: {},
    cpuProf: false,
    out: join(root, 'bench/results', `flow-cost-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    drainSeconds: 60,
  };
  const num = (flag: string, raw: string | undefined, min: number): number => {
    const n = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(n) || n < min)
      throw new UsageError(`${flag} needs a number >= ${min}, got ${raw ?? 'nothing'}`);
    return n;
  };
  const list = (flag: string, raw: string | undefined): string[] => {
    if (!raw) throw new UsageError(`${flag} needs a comma-separated list`);
    return raw.split(',').map((s) => s.trim());
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--quick':
        o.rates = [2, 5, 10];
        o.stepSeconds = 8;
        o.single = 3;
        o.rateLimits = ['off'];
        break;
      case '--rates':
        o.rates = list(flag, value()).map((r) => num(flag, r, 0.1));
        break;
      case '--step-seconds':
        o.stepSeconds = num(flag, value(), 1);
        break;
      case '--arms': {
        const arms = list(flag, value());
        for (const a of arms) if (!ARMS.includes(a as Arm)) throw new UsageError(`unknown arm "${a}"`);
        o.arms = arms as Arm[];
        break;
      }
      case '--rate-limits': {
        const modes = list(flag, value());
        for (const m of modes)
          if (m !== 'off' && m !== 'config') throw new UsageError(`unknown rate-limit mode "${m}"`);
        o.rateLimits = modes as RateLimits[];
        break;
      }
      case '--single':
        o.single = Math.floor(num(flag, value(), 0));
        break;
      case '--latency-ms':
        o.latencyMs = num(flag, value(), 0);
        break;
      case '--floor-shape': {
        const shape = value() ?? '';
        if (!/^[alu]+$/.test(shape) || !/[al]/.test(shape))
          throw new UsageError(
            '--floor-shape is a string of a, l and u with at least one a or l, e.g. aaaaala',
          );
        o.floorShape = shape;
        break;
      }
      case '--inflight':
        o.inflight = Math.floor(num(flag, value(), 0));
        break;
      case '--env': {
        const kv = value() ?? '';
        const eq = kv.indexOf('=');
        if (eq < 1) throw new UsageError(`--env needs KEY=VALUE, got "${kv}"`);
        o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--cpu-prof':
        o.cpuProf = true;
        break;
      case '--drain-seconds':
        o.drainSeconds = num(flag, value(), 1);
        break;
      case '--out': {
        const dir = value();
        if (!dir) throw new UsageError('--out needs a directory');
        o.out = resolve(dir);
        break;
      }
      default:
        throw new UsageError(`unknown option "${flag}"`);
    }
  }
  if (o.rates.length === 0 || o.arms.length === 0 || o.rateLimits.length === 0)
    throw new UsageError('nothing to run');
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Processes and /proc.

interface Proc {
  name: string;
  pid: number;
  managed: ManagedProcess;
}

async function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolveP(port));
    });
  });
}

/** A node child running a TypeScript file through tsx, with IPC; resolves once it reports ready. */
async function forkTs(
  name: string,
  file: string,
  env: NodeJS.ProcessEnv,
  execArgv: string[] = [],
): Promise<Proc & { child: ChildProcess; ready: Record<string, string> }> {
  const child = fork(resolve(root, file), [], {
    env,
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = await new Promise<Record<string, string>>((resolveP, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not report ready within 120 s`)), 120_000);
    child.on('message', (msg: { type: string }) => {
      if (msg.type !== 'ready') return;
      clearTimeout(timer);
      resolveP(msg);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
  return { name, pid: child.pid!, child, ready, managed: { name, child, exited } };
}

function ask<T>(child: ChildProcess, msg: object, answer: string, timeoutMs: number): Promise<T> {
  return new Promise((resolveP, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${answer}" within ${timeoutMs} ms`)), timeoutMs);
    const on = (m: { type: string; error?: string }) => {
      if (m.type === 'failed') {
        clearTimeout(timer);
        child.off('message', on);
        reject(new Error(m.error));
      }
      if (m.type !== answer) return;
      clearTimeout(timer);
      child.off('message', on);
      resolveP(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function stopProc(p: { managed: ManagedProcess; child?: ChildProcess }): Promise<void> {
  if (p.child?.connected) p.child.disconnect();
  await stopProcess(p.managed, 10_000);
}

// ---------------------------------------------------------------------------------------------------
// Statistics.

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const r1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : NaN);

interface StepResult {
  arm: Arm;
  rateLimits: RateLimits;
  offered: number;
  arrivals: number;
  accepted: number;
  completed: number;
  failed: number;
  drained: boolean;
  throughput: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  ack: { p50: number; p99: number };
  /** CPU ms per completed flow, per process, idle use subtracted. */
  cpuPerFlow: Record<string, number>;
  /** Sum over the arm's own processes (simulators excluded: they stand in for the external systems). */
  cpuPerFlowTotal: number;
  rssMaxMb: Record<string, number>;
  windowMs: number;
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (process.argv.includes('--help')) {
      console.log(USAGE);
      process.exit(0);
    }
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (process.platform !== 'linux') {
    console.error('flow-cost reads CPU time and RSS from /proc: it runs on Linux only');
    process.exit(2);
  }
  const executable = resolveTemporalExecutable();
  if (executable.type !== 'existing-path') {
    console.error(
      'flow-cost needs the Temporal CLI (scripts/temporal-cli.sh builds it, or set TEMPORAL_CLI_PATH)',
    );
    process.exit(1);
  }
  mkdirSync(options.out, { recursive: true });
  const log = (line: string) => console.log(`[flow-cost] ${line}`);
  const started = new Date();
  const load0 = loadavg();
  const git = (() => {
    try {
      const g = (...a: string[]) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
      return { commit: g('rev-parse', '--short', 'HEAD'), dirty: g('status', '--porcelain') !== '' };
    } catch {
      return {};
    }
  })();

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    // Temporal: the dev server exactly as `npm start` runs it, on a fresh file store.
    const dataDir = mkdtempSync(join(tmpdir(), 'flow-cost-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const temporalPort = await freePort();
    const address = `127.0.0.1:${temporalPort}`;
    const temporalManaged = startProcess(
      'temporal',
      executable.path,
      devServerArgs({
        host: '127.0.0.1',
        port: temporalPort,
        dbFile: join(dataDir, 'temporal.db'),
        searchAttributes: allSearchAttributes,
      }),
      process.env,
      { quiet: true },
    );
    cleanups.push(() => stopProcess(temporalManaged, 10_000));
    const connection = await (async () => {
      let c: Connection | undefined;
      await waitUntil(
        'Temporal',
        async () => {
          c = await Connection.connect({ address, connectTimeout: 1_000 });
          await c.workflowService.getSystemInfo({});
          return true;
        },
        60_000,
      );
      return c!;
    })();
    cleanups.push(() => connection.close());
    // Decodes the project arm's encrypted results with the keyring its worker and API use (the defaults,
    // or --env PAYLOAD_CODEC_*); the floor arm's plain payloads pass through the codec unchanged.
    const keyring = loadConfig({ ...process.env, ...options.env }).payloadKeyring;
    const client = new Client({
      connection,
      namespace: 'default',
      dataConverter: projectDataConverter(keyring),
    });
    const procs: Proc[] = [{ name: 'temporal', pid: temporalManaged.child.pid!, managed: temporalManaged }];
    log(`Temporal dev server at ${address} (pid ${temporalManaged.child.pid})`);

    const sims = await forkTs('simulators', 'bench/flow-cost/simulators.ts', {
      ...process.env,
      BENCH_LATENCY_MS: String(options.latencyMs),
    });
    cleanups.push(() => stopProc(sims));
    procs.push(sims);
    const lg = await forkTs('load-generator', 'bench/load-generator.ts', process.env);
    cleanups.push(() => stopProc(lg));

    const simUrls = sims.ready as { salesforce: string; sapEndpoint: string; webhook: string };
    const systemEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      LOG_LEVEL: 'WARN',
      SALESFORCE_LOGIN_URL: simUrls.salesforce,
      SAP_ENDPOINT: simUrls.sapEndpoint,
      WEBHOOK_SUBSCRIBERS: JSON.stringify([
        { name: 'bench-consumer', url: simUrls.webhook, secret: WEBHOOK_SECRET },
      ]),
      API_TOKEN,
    };

    // Arms 1 and 2 do not depend on the rate limits: started once.
    let nodurUrl = '';
    if (options.arms.includes('no-durability')) {
      const port = await freePort();
      const nodur = await forkTs('no-durability', 'bench/flow-cost/no-durability.ts', {
        ...systemEnv,
        BENCH_PORT: String(port),
      });
      cleanups.push(() => stopProc(nodur));
      procs.push(nodur);
      nodurUrl = `http://127.0.0.1:${port}`;
    }
    const floorQueue = 'bench-floor';
    if (options.arms.includes('floor')) {
      const floor = await forkTs('floor-worker', 'bench/flow-cost/floor-worker.ts', {
        ...systemEnv,
        BENCH_FLOOR_QUEUE: floorQueue,
      });
      cleanups.push(() => stopProc(floor));
      procs.push(floor);
    }

    const results: StepResult[] = [];
    const singles: Record<string, { e2e: number[]; overheadPerCall: number }> = {};
    let inflight: Record<string, unknown> | undefined;

    for (const mode of options.rateLimits) {
      const modeArms = mode === 'off' ? options.arms : options.arms.filter((a) => a === 'project');
      if (modeArms.length === 0) continue;
      const prefix = `bench-${mode}`;
      // The project: worker and API as separate processes, like `npm start`.
      let project: { worker: Proc & { child?: ChildProcess }; api: Proc; apiUrl: string } | undefined;
      if (modeArms.includes('project')) {
        const apiPort = await freePort();
        const env = {
          ...systemEnv,
          TASK_QUEUE_PREFIX: prefix,
          API_PORT: String(apiPort),
          ...(mode === 'off'
            ? {
                SALESFORCE_RATE_LIMIT_PER_SECOND: '0',
                SAP_RATE_LIMIT_PER_SECOND: '0',
                WEBHOOK_RATE_LIMIT_PER_SECOND: '0',
              }
            : {}),
          // As the Docker image and `npm start` run the worker (docs/configuration.md).
          MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
          ...options.env,
        };
        const prof = (name: string) =>
          options.cpuProf
            ? ['--cpu-prof', '--cpu-prof-dir', join(options.out, 'profiles', `${mode}-${name}`)]
            : [];
        // The worker's main-thread heap flag, as `npm start` passes it (src/workers/main-thread-heap.ts).
        const processEnv: NodeJS.ProcessEnv = env;
        const workerFlags = workerNodeFlags(
          loadConfig(processEnv).WORKER_MAIN_SEMI_SPACE_MB,
          processEnv.NODE_OPTIONS,
        );
        const node = (name: string, file: string): Proc => {
          const managed = startProcess(
            name,
            process.execPath,
            [
              ...prof(name),
              ...(name === 'worker' ? workerFlags : []),
              '--import',
              'tsx',
              resolve(root, file),
            ],
            env,
            {
              quiet: true,
            },
          );
          return { name, pid: managed.child.pid!, managed };
        };
        const worker = node('worker', 'src/workers/main.ts');
        const api = node('api', 'src/api/server.ts');
        const stopBoth = async () => {
          await stopProcess(api.managed, 10_000);
          await stopProcess(worker.managed, 20_000);
        };
        cleanups.push(stopBoth);
        const apiUrl = `http://127.0.0.1:${apiPort}`;
        await waitUntil('the API', async () => (await fetch(`${apiUrl}/healthz`)).status === 200, 120_000);
        project = { worker, api, apiUrl };
        log(`rate limits ${mode}: worker pid ${worker.pid}, API pid ${api.pid} at ${apiUrl}`);
      }
      const armProcs = (arm: Arm): Proc[] => {
        const by = (n: string) => procs.find((p) => p.name === n);
        const list =
          arm === 'project'
            ? [by('temporal'), project?.worker, project?.api, by('simulators')]
            : arm === 'floor'
              ? [by('temporal'), by('floor-worker')]
              : [by('no-durability'), by('simulators')];
        return list.filter((p): p is Proc => p !== undefined);
      };
      const target = (arm: Arm): Target =>
        arm === 'project'
          ? { kind: 'http', url: `${project!.apiUrl}/v1/customers`, token: API_TOKEN }
          : arm === 'floor'
            ? {
                kind: 'temporal',
                address,
                namespace: 'default',
                taskQueue: floorQueue,
                shape: options.floorShape,
              }
            : { kind: 'http', url: `${nodurUrl}/v1/customers` };

      let seq = 0;
      /** Sends `count` arrivals at `rate`, waits until all finished, returns per-flow timings. */
      const runFlows = async (
        arm: Arm,
        rate: number,
        count: number,
        drainMs: number,
        onTick?: () => void,
      ) => {
        const tag = `fc${Date.now().toString(36)}-${mode === 'off' ? 'o' : 'c'}${arm[0]}${seq++}`;
        const since = new Date(Date.now() - 1_000).toISOString();
        const runReq: RunRequest = { type: 'run', tag, rate, count, target: target(arm) };
        const tick = setInterval(() => onTick?.(), 500);
        try {
          const { arrivals } = await ask<{ arrivals: Arrival[] }>(
            lg.child,
            runReq,
            'done',
            (count / rate) * 1000 + 120_000,
          );
          const accepted = arrivals.filter((a) => a.status !== undefined && a.status < 300);
          const done = new Map<string, { closeAt: number; ok: boolean }>();
          const deadline = Date.now() + drainMs;
          let drained = false;
          while (Date.now() < deadline) {
            if (arm === 'no-durability') {
              const res = (await (await fetch(`${nodurUrl}/__bench/runs`)).json()) as {
                done: { reference: string; doneAt: number; ok: boolean }[];
              };
              for (const d of res.done) done.set(d.reference, { closeAt: d.doneAt, ok: d.ok });
              if (done.size >= accepted.length) {
                drained = true;
                break;
              }
            } else {
              const q = temporalQuery(arm, arm === 'project' ? `${prefix}.coordinator` : floorQueue, since);
              const running = await client.workflow.count(`${q} AND ExecutionStatus = 'Running'`);
              const all = await client.workflow.count(q);
              if (running.count === 0 && all.count >= accepted.length) {
                drained = true;
                break;
              }
            }
            await new Promise((r) => setTimeout(r, 250));
          }
          const drainedAt = Date.now();
          if (arm !== 'no-durability') {
            const q = temporalQuery(arm, arm === 'project' ? `${prefix}.coordinator` : floorQueue, since);
            for await (const wf of client.workflow.list({ query: `${q} AND ExecutionStatus != 'Running'` })) {
              if (wf.closeTime)
                done.set(wf.workflowId, {
                  closeAt: wf.closeTime.getTime(),
                  ok: wf.status.name === 'COMPLETED',
                });
            }
          }
          const idOf = (a: Arrival) => (arm === 'project' ? customerCreationWorkflowId(a.id) : a.id);
          const flows = accepted.map((a) => ({ arrival: a, close: done.get(idOf(a)) }));
          return { arrivals, accepted, flows, drained, drainedAt };
        } finally {
          clearInterval(tick);
        }
      };

      // Warm-up: one flow per arm (first-call costs: OAuth login, WSDL parsing, workflow bundle).
      for (const arm of modeArms) await runFlows(arm, 1, 2, 120_000);
      log(`warmed up: ${modeArms.join(', ')}`);

      // Idle CPU of every process, subtracted from each step's window: the lowest of four 2.5 s windows,
      // because the first seconds after the warm-up still carry its garbage collection and compilation
      // (one 5 s window measured a worker's idle at 6 to 148 ms/s from run to run, moving the per-flow
      // figures of a 15 s step by up to 11 ms).
      const idleRate: Record<string, number> = {};
      {
        const all = modeArms.flatMap(armProcs);
        for (let window = 0; window < 4; window++) {
          const c0 = Object.fromEntries(all.map((p) => [p.name, procCpuMs(p.pid)]));
          const t0 = Date.now();
          await new Promise((r) => setTimeout(r, 2_500));
          for (const p of all) {
            const rate = Math.max(0, (procCpuMs(p.pid) - c0[p.name]!) / (Date.now() - t0));
            idleRate[p.name] = Math.min(idleRate[p.name] ?? Infinity, rate);
          }
        }
      }
      log(
        `idle CPU (ms/s): ${Object.entries(idleRate)
          .map(([n, v]) => `${n} ${r1(v * 1000)}`)
          .join(', ')}`,
      );

      // One flow at a time.
      if (options.single > 0) {
        for (const arm of modeArms) {
          const e2e: number[] = [];
          for (let i = 0; i < options.single; i++) {
            const res = await runFlows(arm, 1, 1, 120_000);
            for (const f of res.flows) if (f.close) e2e.push(f.close.closeAt - f.arrival.sentAt);
          }
          const p50 = percentile(e2e, 50);
          const calls = arm === 'floor' ? 0 : EXTERNAL_CALLS;
          singles[`${arm} (limits ${mode})`] = {
            e2e,
            overheadPerCall: calls ? r1((p50 - calls * options.latencyMs) / calls) : NaN,
          };
          log(`single ${arm}: end-to-end p50 ${r1(p50)} ms over ${e2e.length}`);
        }
      }

      // Stepped open-loop load, arms interleaved at each rate, until each arm's knee.
      const saturated = new Set<Arm>();
      for (const rate of options.rates) {
        for (const arm of modeArms) {
          if (saturated.has(arm)) continue;
          const ps = armProcs(arm);
          const count = Math.max(1, Math.round(rate * options.stepSeconds));
          const rss: Record<string, number> = {};
          const sampleRss = () => {
            for (const p of ps) rss[p.name] = Math.max(rss[p.name] ?? 0, procRssMb(p.pid));
          };
          const c0 = Object.fromEntries(ps.map((p) => [p.name, procCpuMs(p.pid)]));
          const t0 = Date.now();
          const res = await runFlows(
            arm,
            rate,
            count,
            options.drainSeconds * 1000 + options.stepSeconds * 1000,
            sampleRss,
          );
          sampleRss();
          const windowMs = res.drainedAt - t0;
          const completedFlows = res.flows.filter((f) => f.close?.ok);
          const n = completedFlows.length;
          const cpuPerFlow: Record<string, number> = {};
          for (const p of ps) {
            const used = procCpuMs(p.pid) - c0[p.name]! - (idleRate[p.name] ?? 0) * windowMs;
            cpuPerFlow[p.name] = r1(n ? used / n : NaN);
          }
          const own = ps.filter((p) => p.name !== 'simulators');
          const lat = res.flows.filter((f) => f.close).map((f) => f.close!.closeAt - f.arrival.sentAt);
          const acks = res.accepted.map((a) => a.ackAt! - a.sentAt);
          // Completions per second while the step ran: (n - 1) intervals between first and last close.
          const closes = completedFlows.map((f) => f.close!.closeAt);
          const first = Math.min(...closes);
          const last = Math.max(...closes);
          const step: StepResult = {
            arm,
            rateLimits: mode,
            offered: rate,
            arrivals: res.arrivals.length,
            accepted: res.accepted.length,
            completed: n,
            failed: res.flows.filter((f) => f.close && !f.close.ok).length,
            drained: res.drained,
            throughput: r1(n > 1 ? (n - 1) / ((last - first) / 1000) : NaN),
            latency: {
              p50: r1(percentile(lat, 50)),
              p90: r1(percentile(lat, 90)),
              p99: r1(percentile(lat, 99)),
              max: r1(Math.max(...lat)),
            },
            ack: { p50: r1(percentile(acks, 50)), p99: r1(percentile(acks, 99)) },
            cpuPerFlow,
            cpuPerFlowTotal: r1(own.reduce((s, p) => s + (cpuPerFlow[p.name] ?? 0), 0)),
            rssMaxMb: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, r1(v)])),
            windowMs,
          };
          results.push(step);
          log(
            `${arm} limits ${mode} @ ${rate}/s: ${n}/${count} done${res.drained ? '' : ' (NOT drained)'}, ` +
              `${step.throughput}/s, p50 ${step.latency.p50} p99 ${step.latency.p99} ms, ` +
              `CPU ${step.cpuPerFlowTotal} ms/flow (${Object.entries(cpuPerFlow)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')})`,
          );
          if (!res.drained || step.throughput < 0.8 * rate || step.latency.p99 > 5_000) saturated.add(arm);
        }
      }

      // The worker's memory with many flows in flight: slow simulators, a burst, RSS while they wait.
      if (options.inflight > 0 && project && mode === options.rateLimits[0]) {
        await ask(sims.child, { type: 'latency', fixedMs: 4_000 }, 'latency-set', 10_000);
        let peak = 0;
        let running = 0;
        const q = temporalQuery(
          'project',
          `${prefix}.coordinator`,
          new Date(Date.now() - 1_000).toISOString(),
        );
        const watch = setInterval(() => {
          peak = Math.max(peak, procRssMb(project.worker.pid));
        }, 250);
        // CPU of the project's processes from the burst to the last flow's end: what the burst cost
        // per flow (a smaller workflow cache shows up here as replays).
        const own = armProcs('project').filter((p) => p.name !== 'simulators');
        const c0 = Object.fromEntries(own.map((p) => [p.name, procCpuMs(p.pid)]));
        const t0 = Date.now();
        const lgDone = ask<{ arrivals: Arrival[] }>(
          lg.child,
          {
            type: 'run',
            tag: `fcin${Date.now().toString(36)}`,
            rate: 200,
            count: options.inflight,
            target: target('project'),
          },
          'done',
          600_000,
        );
        await lgDone;
        await waitUntil(
          'flows in flight',
          async () => {
            running = (await client.workflow.count(`${q} AND ExecutionStatus = 'Running'`)).count;
            return running >= options.inflight * 0.99;
          },
          120_000,
        ).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 3_000));
        const atPeak = { running, workerRssMb: r1(peak) };
        await ask(sims.child, { type: 'latency', fixedMs: options.latencyMs }, 'latency-set', 10_000);
        await waitUntil(
          'the in-flight flows to finish',
          async () => (await client.workflow.count(`${q} AND ExecutionStatus = 'Running'`)).count === 0,
          900_000,
        );
        clearInterval(watch);
        const windowMs = Date.now() - t0;
        const completed = (await client.workflow.count(`${q} AND ExecutionStatus = 'Completed'`)).count;
        const cpuPerFlow = Object.fromEntries(
          own.map((p) => [
            p.name,
            r1((procCpuMs(p.pid) - c0[p.name]! - (idleRate[p.name] ?? 0) * windowMs) / completed),
          ]),
        );
        const cpuPerFlowTotal = r1(Object.values(cpuPerFlow).reduce((s, v) => s + v, 0));
        inflight = {
          ...atPeak,
          workerRssMbOverall: r1(peak),
          flows: options.inflight,
          completed,
          windowMs,
          cpuPerFlow,
          cpuPerFlowTotal,
        };
        log(
          `in flight: ${running} flows, worker RSS ${atPeak.workerRssMb} MB with them running, peak ${r1(peak)} MB; ` +
            `${completed} completed in ${r1(windowMs / 1000)} s, CPU ${cpuPerFlowTotal} ms/flow (${Object.entries(
              cpuPerFlow,
            )
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')})`,
        );
      }

      if (project) {
        cleanups.pop();
        await stopProcess(project.api.managed, 10_000);
        await stopProcess(project.worker.managed, 20_000);
      }
    }

    const load1 = loadavg();
    const report = {
      started: started.toISOString(),
      finished: new Date().toISOString(),
      git,
      machine: { cpus: cpus().length, loadavgBefore: load0.map(r1), loadavgAfter: load1.map(r1) },
      options: { ...options, out: relative(root, options.out) },
      results,
      singles,
      inflight,
    };
    writeFileSync(join(options.out, 'results.json'), JSON.stringify(report, null, 2));
    const md = markdown(report, options);
    writeFileSync(join(options.out, 'results.md'), md);
    const series: PlotSeries[] = [];
    for (const mode of options.rateLimits)
      for (const arm of options.arms) {
        const points = results.filter((r) => r.arm === arm && r.rateLimits === mode);
        if (points.length)
          series.push({
            label: `${arm}${mode === 'config' ? ' (rate limits as configured)' : ''}`,
            points: points.map((p) => ({ x: p.offered, p50: p.latency.p50, p99: p.latency.p99 })),
          });
      }
    const png = renderLatencyPlot(series, {
      title: `Customer flow: latency vs offered load (${git.commit ?? ''}, ${started.toISOString().slice(0, 16)} UTC)`,
    });
    writeFileSync(join(options.out, 'latency.png'), png.png);
    writeFileSync(join(options.out, 'latency.svg'), png.svg);
    console.log(`\n${md}`);
    log(`wrote ${relative(process.cwd(), options.out)}/{results.json,results.md,latency.png}`);
  } finally {
    await cleanup();
  }
}

function temporalQuery(arm: Arm, taskQueue: string, since: string): string {
  const type = arm === 'project' ? customerCreationWorkflowType : 'engineFloor';
  return `WorkflowType = '${type}' AND TaskQueue = '${taskQueue}' AND StartTime >= '${since}'`;
}

function markdown(
  report: {
    results: StepResult[];
    singles: Record<string, { e2e: number[]; overheadPerCall: number }>;
    inflight?: unknown;
    machine: { loadavgBefore: number[]; loadavgAfter: number[] };
    git: { commit?: string; dirty?: boolean };
    started: string;
  },
  o: Options,
): string {
  const lines: string[] = [];
  lines.push(
    `Run ${report.started} (commit ${report.git.commit ?? '?'}${report.git.dirty ? ', uncommitted changes' : ''}), ` +
      `load average ${report.machine.loadavgBefore.join(' / ')} before, ${report.machine.loadavgAfter.join(' / ')} after; ` +
      `${o.latencyMs} ms per simulated call, ${o.stepSeconds} s per step, floor shape \`${o.floorShape}\`.`,
    '',
  );
  const procNames = ['temporal', 'worker', 'api', 'floor-worker', 'no-durability', 'simulators'];
  lines.push(
    `| arm | rate limits | offered /s | done /s | done | p50 ms | p99 ms | ack p99 ms | CPU ms/flow | ${procNames.join(' | ')} | RSS MB (worker / floor worker / service) |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ${procNames.map(() => '---:').join(' | ')} | ---: |`,
  );
  for (const r of report.results) {
    lines.push(
      `| ${r.arm} | ${r.rateLimits} | ${r.offered} | ${r.throughput} | ${r.completed}/${r.arrivals}${r.drained ? '' : ' ⚠'} | ${r.latency.p50} | ${r.latency.p99} | ${r.ack.p99} | **${r.cpuPerFlowTotal}** | ${procNames.map((n) => r.cpuPerFlow[n] ?? '').join(' | ')} | ${r.rssMaxMb.worker ?? r.rssMaxMb['floor-worker'] ?? r.rssMaxMb['no-durability'] ?? ''} |`,
    );
  }
  lines.push(
    '',
    'Ratios of CPU per flow (simulators excluded), at each rate every arm sustained with rate limits off:',
    '',
  );
  lines.push(
    '| offered /s | project | no-durability | floor | project / no-durability | project / floor |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const ok = (r: StepResult | undefined) => r && r.drained && r.throughput >= 0.8 * r.offered;
  for (const rate of o.rates) {
    const get = (arm: Arm) =>
      report.results.find((r) => r.arm === arm && r.rateLimits === 'off' && r.offered === rate);
    const p = get('project');
    const n = get('no-durability');
    const f = get('floor');
    if (!ok(p)) continue;
    lines.push(
      `| ${rate} | ${p!.cpuPerFlowTotal} | ${ok(n) ? n!.cpuPerFlowTotal : '—'} | ${ok(f) ? f!.cpuPerFlowTotal : '—'} | ${ok(n) ? `${r1(p!.cpuPerFlowTotal / n!.cpuPerFlowTotal)}×` : '—'} | ${ok(f) ? `${(p!.cpuPerFlowTotal / f!.cpuPerFlowTotal).toFixed(2)}×` : '—'} |`,
    );
  }
  if (Object.keys(report.singles).length) {
    lines.push(
      '',
      'One flow at a time:',
      '',
      '| arm | flows | end-to-end p50 ms | min | max | overhead per external call ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const [arm, s] of Object.entries(report.singles))
      lines.push(
        `| ${arm} | ${s.e2e.length} | ${r1(percentile(s.e2e, 50))} | ${r1(Math.min(...s.e2e))} | ${r1(Math.max(...s.e2e))} | ${Number.isNaN(s.overheadPerCall) ? '—' : s.overheadPerCall} |`,
      );
  }
  if (report.inflight) lines.push('', `Flows in flight: \`${JSON.stringify(report.inflight)}\``);
  return lines.join('\n');
}

main().catch((err: unknown) => {
  console.error(`flow-cost failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
