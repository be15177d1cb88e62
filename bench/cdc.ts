/**
 * Throughput and hand-over latency of the Salesforce CDC intake (not a test): `npx tsx bench/cdc.ts`.
 *
 * A real Temporal dev server, the simulators in a child process (the Salesforce simulator's Pub/Sub API
 * on an ephemeral port), the coordinator's worker set in this process, and the CDC subscriber in a child
 * process of its own, built exactly as `npm run cdc` builds it (config, jsforce session, Pub/Sub client,
 * cdcSubscription state workflow). This process makes Opportunity changes "as users" through the Salesforce
 * simulator's admin surface at a fixed rate (open loop: a change is made on schedule whether or not the
 * subscriber keeps up), spread over a set of Opportunities; every change commits, becomes a change event on
 * `/data/OpportunityChangeEvent`, is read by the subscriber, decoded and handed to the Opportunity's entity
 * workflow by signal-with-start. Per step (offered rate) it reports the events handed over per second and
 * the time from the change's commit (`commitTimestamp`, the simulator's clock: same machine) to the
 * moment signal-with-start returned (the signal is in the entity workflow's history): p50/p95/p99/max.
 * Per step it also reports the CPU time each process used per change handed over, from /proc: the
 * Temporal server, this process (the entity workflows' worker and the change generator), the subscriber
 * and the simulators. CPU per change holds up better than the rate on a machine that is doing other work.
 * The subscriber process's RSS and heap are sampled every 5 s over the whole run.
 *
 * JSON with every figure goes to bench/results/ (git-ignored).
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCdcSubscribers } from '../src/cdc/main';
import { loadConfig } from '../src/config';
import type { Config } from '../src/config';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import { projectDataConverter } from '../src/security/data-converter';
import { buildActivities, queueTuning } from '../src/workers/dependencies';
import { bundleWorkflows, createWorkerSet } from '../src/workers/worker-set';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import {
  UsageError,
  intArg,
  optionsOrExit,
  mb,
  sleep,
  runBench,
  startSimulatorProcess,
  stats,
  waitFor,
  writeResults,
} from './support/stack';
import { findDevServerPid, procCpuMs } from './support/proc';

const USAGE = `usage: npx tsx bench/cdc.ts [options]

  --rates <list>       offered change events per second, comma-separated (default 100,500)
  --duration <s>       measured seconds per rate (default 90; about 4 minutes in all with the defaults)
  --warmup <s>         seconds per rate before measuring (default 10)
  --soak               10 minutes at the last rate (same as --duration 600 for that rate)
  --records <n>        Opportunities the changes are spread over, one entity workflow each (default 200)
  --batch-size <n>     CDC_BATCH_SIZE, events per FetchRequest, 1-100 (default 100)
  --no-floor           skip the engine floor (signal-with-start to workflows that do nothing, same rates)
  --help               this text`;

interface Options {
  rates: number[];
  durationS: number;
  warmupS: number;
  soak: boolean;
  records: number;
  batchSize: number;
  floor: boolean;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    rates: [100, 500],
    durationS: 90,
    warmupS: 10,
    soak: false,
    records: 200,
    batchSize: 100,
    floor: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    switch (a) {
      case '--rates': {
        const raw = next();
        const parts = (raw ?? '').split(',');
        o.rates = parts.map((p) => intArg('--rates', p.trim(), 1, 5_000));
        break;
      }
      case '--duration':
        o.durationS = intArg('--duration', next(), 5, 3_600);
        break;
      case '--warmup':
        o.warmupS = intArg('--warmup', next(), 0, 600);
        break;
      case '--soak':
        o.soak = true;
        break;
      case '--records':
        o.records = intArg('--records', next(), 1, 10_000);
        break;
      case '--batch-size':
        o.batchSize = intArg('--batch-size', next(), 1, 100);
        break;
      case '--no-floor':
        o.floor = false;
        break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Child: the CDC subscriber, as `npm run cdc` builds it, reporting each hand-over to the parent.

interface HandOver {
  commit: number;
  at: number;
}
type ChildMessage =
  | { type: 'handovers'; items: HandOver[]; positionsStored: number }
  | { type: 'memory'; at: number; rss: number; heapUsed: number }
  | { type: 'ready' };

async function runSubscriberChild(): Promise<void> {
  const config = loadConfig(process.env);
  const connection = await Connection.connect(config.temporal.connectionOptions);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: projectDataConverter(config.payloadKeyring),
  });
  let pending: HandOver[] = [];
  const send = (m: ChildMessage) => {
    if (process.connected) process.send?.(m);
  };
  const cdc = createCdcSubscribers(config, client, {
    logger: {
      info() {},
      warn: (m, f) => console.warn(m, JSON.stringify(f)),
      error: (m, f) => console.error(m, JSON.stringify(f)),
    },
    onHandedOver: (_e, commit) => pending.push({ commit, at: Date.now() }),
  });
  cdc.start();
  // Replay ids stored in the subscription's state workflow so far: one Temporal update each.
  const positionsStored = () => cdc.subscribers.reduce((n, s) => n + s.stats.batchesStored, 0);
  const flush = setInterval(() => {
    if (pending.length === 0) return;
    send({ type: 'handovers', items: pending, positionsStored: positionsStored() });
    pending = [];
  }, 250);
  const sample = () => {
    const m = process.memoryUsage();
    send({ type: 'memory', at: Date.now(), rss: m.rss, heapUsed: m.heapUsed });
  };
  sample();
  const memory = setInterval(sample, 5_000);
  send({ type: 'ready' });
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'stop') return;
    clearInterval(flush);
    clearInterval(memory);
    void cdc.stop().then(async () => {
      if (pending.length) send({ type: 'handovers', items: pending, positionsStored: positionsStored() });
      await connection.close();
      process.exit(0);
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Parent.

async function main(): Promise<void> {
  if (process.argv.includes('--child-subscriber')) return runSubscriberChild();
  const options = optionsOrExit(parseArgs, USAGE);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const executable = resolveTemporalExecutable();
  const load = loadavg();
  console.log(
    `cdc bench: rates ${options.rates.join(', ')} ev/s, ${options.durationS} s each (+${options.warmupS} s warm-up)${options.soak ? `, the last one ${600} s` : ''}, ${options.records} Opportunities; ${cpus().length} CPUs, load ${load.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const cleanups: (() => unknown)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const server = await TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        searchAttributes: [...allSearchAttributes],
        log: { format: 'pretty', level: 'error' },
      },
    });
    cleanups.push(() => server.teardown());
    const address = server.address;

    const sims = await startSimulatorProcess();
    cleanups.push(() => sims.stop());
    const sf = sims.urls.salesforce!;
    const pubSub = (await (await fetch(`${sf}/__admin/pubsub`)).json()) as {
      endpoint: string;
      caCertificate: string;
    };
    const caFile = join(mkdtempSync(join(tmpdir(), 'cdc-bench-')), 'ca.pem');
    writeFileSync(caFile, pubSub.caCertificate);

    const prefix = `bench-cdc-${Date.now().toString(36)}`;
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: address,
      TASK_QUEUE_PREFIX: prefix,
      SALESFORCE_LOGIN_URL: sf,
      SAP_ENDPOINT: `${sims.urls.sap}/sap/bc/soap/rfc`,
      SALESFORCE_PUBSUB_ENDPOINT: pubSub.endpoint,
      SALESFORCE_PUBSUB_CA_FILE: caFile,
      CDC_CHANNELS: '/data/OpportunityChangeEvent',
      CDC_BATCH_SIZE: String(options.batchSize),
      WEBHOOK_SUBSCRIBERS: '[]',
      BATCH_SYNCS: '[]',
    };
    const config: Config = loadConfig({ ...env });

    // The coordinator's workers in this process: the entity workflows run as in production.
    const nativeConnection = await NativeConnection.connect({ address });
    cleanups.push(() => nativeConnection.close());
    const set = await createWorkerSet({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueuePrefix: prefix,
      dataConverter: projectDataConverter(config.payloadKeyring),
      activities: buildActivities(config),
      tuning: queueTuning(config),
      workflowBundle: await bundleWorkflows(),
      shutdownGraceTime: 2_000,
    });
    const running = set.run();
    cleanups.push(async () => {
      set.shutdown();
      await running;
    });

    // Opportunities already linked to SAP orders, loaded without change events. A change of their name
    // is an `opportunity.updated` entity event; the order workflow reads the Opportunity once (its first
    // event) and then decides each change without calls (the name is not an SAP field), so the figures
    // are the intake's, not SAP's or Salesforce's rate limits.
    const seeded = (await (
      await fetch(`${sf}/__admin/records/Opportunity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          Array.from({ length: options.records }, (_, i) => ({
            Name: `CDC Bench ${i}`,
            StageName: 'Prospecting',
            CloseDate: '2027-06-30',
            SAP_Order_Number__c: String(5000000 + i).padStart(10, '0'),
          })),
        ),
      })
    ).json()) as { ids?: string[]; error?: string };
    if (!seeded.ids) throw new Error(`seeding Opportunities failed: ${JSON.stringify(seeded)}`);
    const ids = seeded.ids;

    // The subscriber in its own process.
    const handovers: HandOver[] = [];
    const memory: { at: number; rss: number; heapUsed: number }[] = [];
    const child = fork(__filename, ['--child-subscriber'], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx'],
    });
    const childExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (child.exitCode === null) {
        child.send({ type: 'stop' });
        await Promise.race([childExited, sleep(10_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
    let ready = false;
    let positionsStored = 0;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') ready = true;
      else if (m.type === 'handovers') {
        handovers.push(...m.items);
        positionsStored = m.positionsStored;
      } else memory.push({ at: m.at, rss: m.rss, heapUsed: m.heapUsed });
    });
    await waitFor('the subscriber process', () => (ready ? true : undefined), 60_000);

    const cdcProcesses = {
      server: findDevServerPid(address),
      'worker + generator': process.pid,
      subscriber: child.pid,
      simulators: sims.child.pid,
    };
    let seq = 0;
    const change = async (n: number) => {
      const id = ids[n % ids.length]!;
      const res = await fetch(`${sf}/__admin/records/Opportunity/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Name: `CDC Bench change ${n}` }),
      });
      if (!res.ok) throw new Error(`change ${n}: HTTP ${res.status}`);
      await res.arrayBuffer();
    };
    // The subscription starts at LATEST, once its stream is open: change until a first change comes through.
    let probes = 0;
    await waitFor(
      'the first hand-over',
      async () => {
        if (handovers.length > 0) return true;
        probes += 1;
        if (probes % 10 === 1) await change((seq += 1));
        return undefined;
      },
      60_000,
    );
    await sleep(2_000);
    const baseline = handovers.length;

    const steps: Record<string, unknown>[] = [];
    let changesSoFar = 0;
    for (const [index, rate] of options.rates.entries()) {
      const durationS = options.soak && index === options.rates.length - 1 ? 600 : options.durationS;
      const startedAt = Date.now();
      const measureFrom = startedAt + options.warmupS * 1000;
      const endAt = measureFrom + durationS * 1000;
      const total = Math.round(((endAt - startedAt) / 1000) * rate);
      console.log(`rate ${rate} ev/s: ${total} changes over ${(endAt - startedAt) / 1000} s...`);
      const handedBefore = handovers.length;
      const storedBefore = positionsStored;
      const cpu = cpuMeter(cdcProcesses);
      const { sent, errors, lateSends } = await openLoop(total, rate, startedAt, () => change((seq += 1)));
      changesSoFar += sent - errors;
      const expected = baseline + changesSoFar;
      // Drain: every change of the step handed over (or give up after two minutes and say so).
      const drained: number | undefined = await waitFor(
        'the subscriber to catch up',
        () => (handovers.length >= expected ? Date.now() : undefined),
        120_000,
      ).catch(() => undefined);
      const inWindow = handovers.filter((h) => h.commit >= measureFrom && h.commit < endAt);
      const delivered = handovers.filter((h) => h.at >= measureFrom && h.at < endAt).length;
      const latency = stats(inWindow.map((h) => h.at - h.commit));
      const step = {
        offeredRate: rate,
        durationS,
        changes: sent - errors,
        changeErrors: errors,
        generatorBehindSchedule: lateSends > 0,
        handedOverPerSecond: Math.round((delivered / durationS) * 10) / 10,
        dueChanges: total,
        committedInWindow: inWindow.length,
        drainedAfterEndMs: drained ? drained - endAt : null,
        commitToSignalMs: latency,
        cpuMsPerChange: cpu(handovers.length - handedBefore),
        positionsStored: positionsStored - storedBefore,
      };
      steps.push(step);
      console.log(
        `  handed over ${step.handedOverPerSecond} ev/s; commit -> signal ${
          latency.count
            ? `p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms, max ${latency.max} ms (${latency.count} events)`
            : 'not measured: none of the changes committed in the window was handed over by the end'
        }; ${step.drainedAfterEndMs !== null ? `drained ${step.drainedAfterEndMs} ms after the end` : 'NOT drained within 120 s after the end'}`,
      );
      console.log(
        `  CPU ms per change handed over: ${formatCpu(step.cpuMsPerChange)}; ${step.positionsStored} replay ids stored for ${handovers.length - handedBefore} changes`,
      );
    }

    const floorSteps = options.floor ? await engineFloor(address, prefix, options, cdcProcesses.server) : [];

    const first = memory.find((m) => m.at >= (memory[0]?.at ?? 0) + 60_000) ?? memory[0];
    const last = memory[memory.length - 1];
    const mem = {
      samples: memory.length,
      rssMbAtStart: memory[0] ? mb(memory[0].rss) : null,
      rssMbAfterOneMinute: first ? mb(first.rss) : null,
      rssMbAtEnd: last ? mb(last.rss) : null,
      rssMbMax: memory.length ? mb(Math.max(...memory.map((m) => m.rss))) : null,
      heapMbAfterOneMinute: first ? mb(first.heapUsed) : null,
      heapMbAtEnd: last ? mb(last.heapUsed) : null,
    };
    console.log(
      `subscriber process memory: RSS ${mem.rssMbAtStart} MB at start, ${mem.rssMbAfterOneMinute} MB after 1 min, ${mem.rssMbAtEnd} MB at the end (max ${mem.rssMbMax}); heap ${mem.heapMbAfterOneMinute} -> ${mem.heapMbAtEnd} MB`,
    );
    const loadAfter = loadavg();
    console.log(`load average at the end: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
    const file = writeResults('cdc', {
      options,
      machine: { cpus: cpus().length, loadBefore: load, loadAfter },
      steps,
      floorSteps,
      subscriberMemory: mem,
      memorySamples: memory,
    });
    console.log(`results: ${file}`);
  } finally {
    await cleanup();
  }
}

/**
 * Open loop: each tick starts the calls that are due at `rate` per second since `startedAt`, without
 * waiting for earlier ones; resolves when all `total` have settled. `lateSends` counts ticks that found
 * the generator more than a second behind schedule.
 */
async function openLoop(
  total: number,
  rate: number,
  startedAt: number,
  call: (dueAt: number) => Promise<unknown>,
): Promise<{ sent: number; errors: number; lateSends: number }> {
  let sent = 0;
  let errors = 0;
  let lateSends = 0;
  const inFlight = new Set<Promise<void>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - startedAt) / 1000) * rate) + 1);
    if (due - sent > rate) lateSends += 1;
    while (sent < due) {
      const p: Promise<void> = call(startedAt + (sent / rate) * 1000)
        .then(() => undefined)
        .catch(() => void (errors += 1))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      sent += 1;
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
  return { sent, errors, lateSends };
}

// ---------------------------------------------------------------------------------------------------
// The engine floor: the same rates of signal-with-start, from this process, to workflows that do nothing
// with a change (bench/flow-cost/floor-workflow.ts, a worker process of their own), spread over as many
// workflow ids as the CDC steps' Opportunities. What one change costs Temporal on this machine before
// any of the coordinator's code (subscriber, decoding, entity workflow) runs; the CDC steps above can at
// best reach it.

async function engineFloor(address: string, prefix: string, options: Options, serverPid?: number) {
  const queue = `${prefix}.floor`;
  const worker = fork(join(__dirname, 'flow-cost', 'floor-worker.ts'), [], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, BENCH_FLOOR_QUEUE: queue },
    execArgv: ['--import', 'tsx'],
  });
  let ready = false;
  worker.on('message', (m: { type?: string }) => void (m.type === 'ready' && (ready = true)));
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const steps: Record<string, unknown>[] = [];
  try {
    await waitFor('the floor worker', () => (ready ? true : undefined), 120_000);
    let seq = 0;
    for (const rate of options.rates) {
      const startedAt = Date.now();
      const measureFrom = startedAt + options.warmupS * 1000;
      const endAt = measureFrom + options.durationS * 1000;
      const total = Math.round(((endAt - startedAt) / 1000) * rate);
      const done: { due: number; at: number }[] = [];
      console.log(`engine floor, rate ${rate} signals/s: ${total} over ${(endAt - startedAt) / 1000} s...`);
      const cpu = cpuMeter({
        server: serverPid,
        'floor worker': worker.pid,
        'signaller (this process)': process.pid,
      });
      const { sent, errors } = await openLoop(total, rate, startedAt, async (dueAt) => {
        const n = (seq += 1);
        await client.workflow.signalWithStart('signalFloor', {
          workflowId: `${prefix}-floor-${n % options.records}`,
          taskQueue: queue,
          signal: 'change',
          signalArgs: [{ n }],
        });
        done.push({ due: dueAt, at: Date.now() });
      });
      const drainedAfterEndMs = Math.max(0, done.reduce((m, d) => Math.max(m, d.at), endAt) - endAt);
      const inWindow = done.filter((d) => d.due >= measureFrom && d.due < endAt);
      const delivered = done.filter((d) => d.at >= measureFrom && d.at < endAt).length;
      const latency = stats(inWindow.map((d) => d.at - d.due));
      const step = {
        offeredRate: rate,
        durationS: options.durationS,
        signals: sent - errors,
        errors,
        handedOverPerSecond: Math.round((delivered / options.durationS) * 10) / 10,
        drainedAfterEndMs,
        dueToSignalMs: latency,
        cpuMsPerSignal: cpu(done.length),
      };
      steps.push(step);
      console.log(
        `  signalled ${step.handedOverPerSecond}/s; due -> signal p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms, max ${latency.max} ms; last returned ${drainedAfterEndMs} ms after the end${errors ? `; ${errors} errors` : ''}`,
      );
      console.log(`  CPU ms per signal: ${formatCpu(step.cpuMsPerSignal)}`);
    }
  } finally {
    await connection.close();
    worker.disconnect();
    await new Promise<void>((resolve) =>
      worker.exitCode !== null ? resolve() : worker.once('exit', () => resolve()),
    );
  }
  return steps;
}

type CpuPerEvent = Record<string, number | null>;

/**
 * Starts measuring the CPU time of the named processes; the function it returns gives each one's CPU ms
 * per event for `events` handed over since, and `total` over all of them (null where it is unknown).
 */
function cpuMeter(processes: Record<string, number | undefined>): (events: number) => CpuPerEvent {
  const start = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, pid ? procCpuMs(pid) : NaN]),
  );
  return (events) => {
    const per: CpuPerEvent = {};
    let total = 0;
    for (const [name, pid] of Object.entries(processes)) {
      const used = pid ? procCpuMs(pid) - start[name]! : NaN;
      per[name] = Number.isFinite(used) && events > 0 ? Math.round((used / events) * 100) / 100 : null;
      total += per[name] ?? 0;
    }
    return { ...per, total: Math.round(total * 100) / 100 };
  };
}

const formatCpu = (cpu: CpuPerEvent) =>
  Object.entries(cpu)
    .map(([name, ms]) => `${name} ${ms ?? '?'}`)
    .join(', ');

runBench('cdc', main, '--child-subscriber');
