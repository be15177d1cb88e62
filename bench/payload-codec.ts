/**
 * What the payload codec costs per customer flow, off versus on, in one run (a script, not a test):
 *
 *   npx tsx bench/payload-codec.ts
 *
 * One Temporal dev server, the simulators in a child process (bench/customer-creation.ts --simulators,
 * BENCH_LATENCY_MS each call), and in this process the API and the worker wired as production wires
 * them. Phase "off": every client and worker with the project's data converter minus the codec (plain
 * payloads; the failure converter stays). Phase "on": AES-256-GCM on every payload (the default). The
 * phases alternate off, on, off, on... BENCH_ROUNDS times (default 3) so that drift in the machine's
 * load falls on both; each phase runs BENCH_CUSTOMERS flows (default 40), BENCH_CONCURRENCY at a time
 * (default 10), after BENCH_WARMUP flows (default 5) not counted. Figures: this process's CPU time (user
 * + system, process.cpuUsage: API, worker and codec) and the Temporal server's (from /proc, Linux), per
 * completed flow, summed over the rounds of each phase.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createApp } from '../src/api/app';
import { loadConfig } from '../src/config';
import { resolveTemporalExecutable } from '../src/dev/temporal-binary';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../src/security/payload-codec';
import { projectDataConverter } from '../src/security/data-converter';
import { buildActivities } from '../src/workers/dependencies';
import { bundleWorkflows, createWorkerSet } from '../src/workers/worker-set';
import { allSearchAttributes } from '../src/workflows/shared/search-attributes';
import { envIntegersOrExit } from './support/stack';

const API_TOKEN = 'bench-token-0123456789abcdef';
const WEBHOOK_SECRET = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';
const {
  BENCH_CUSTOMERS: customers,
  BENCH_CONCURRENCY: concurrency,
  BENCH_WARMUP: warmup,
  BENCH_ROUNDS: rounds,
  BENCH_LATENCY_MS: latencyMs,
  BENCH_REPLAYS: replays,
} = envIntegersOrExit(
  {
    BENCH_CUSTOMERS: { default: 40, min: 1 },
    BENCH_CONCURRENCY: { default: 10, min: 1 },
    BENCH_WARMUP: { default: 5, min: 0 },
    BENCH_ROUNDS: { default: 3, min: 1 },
    BENCH_LATENCY_MS: { default: 20, min: 0 },
    BENCH_REPLAYS: { default: 20, min: 1 },
  },
  'usage: [BENCH_CUSTOMERS=40] [BENCH_CONCURRENCY=10] [BENCH_WARMUP=5] [BENCH_ROUNDS=3] [BENCH_LATENCY_MS=20] [BENCH_REPLAYS=20] npx tsx bench/payload-codec.ts',
);
const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU milliseconds (user + system) of this process's child processes named `temporal`. */
function temporalServerCpuMs(): number {
  let ticks = 0;
  // Threads come and go while this runs: a thread gone by the time it is read had no children to add.
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const pids = new Set<string>();
  for (const tid of readdirSync('/proc/self/task'))
    for (const pid of read(`/proc/self/task/${tid}/children`).split(/\s+/)) if (pid) pids.add(pid);
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`);
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!comm.startsWith('temporal')) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks * 1000) / ticksPerSecond;
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

/**
 * The codec's own CPU time per flow, free of the machine's load: the payloads the codec encoded and
 * decoded during the measured part of the "on" phases are recorded, and at the end encoded and decoded
 * again BENCH_REPLAYS times in a loop with nothing else running, timed by process.cpuUsage.
 */
const recorded: { op: 'encode' | 'decode'; payloads: Payload[] }[] = [];
let recording = false;
function recordingCodec(codec: PayloadCodec): PayloadCodec {
  const wrap =
    (op: 'encode' | 'decode'): PayloadCodec['encode'] =>
    (payloads) => {
      if (recording) recorded.push({ op, payloads });
      return codec[op](payloads);
    };
  return { encode: wrap('encode'), decode: wrap('decode') };
}

async function main(): Promise<void> {
  console.log(
    `payload-codec benchmark: ${rounds} rounds of off/on, ${customers} flows per phase, ${concurrency} at a time, ${latencyMs} ms per simulator call, node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const cleanups: (() => unknown)[] = [];
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
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
    const config = loadConfig({
      API_TOKEN,
      TEMPORAL_ADDRESS: env.address,
      SALESFORCE_LOGIN_URL: urls.salesforce!,
      SAP_ENDPOINT: `${urls.sap}/sap/bc/soap/rfc`,
      WEBHOOK_SUBSCRIBERS: JSON.stringify([
        { name: 'consumer', url: `${urls['webhook-consumer']}/hooks/default`, secret: WEBHOOK_SECRET },
      ]),
    });
    const nativeConnection = await NativeConnection.connect({ address: env.address });
    cleanups.push(() => nativeConnection.close());
    const connection = await Connection.connect({ address: env.address });
    cleanups.push(() => connection.close());
    const namespace = env.namespace ?? 'default';
    const workflowBundle = await bundleWorkflows();

    const phase = async (name: 'off' | 'on', round: number) => {
      const converter = projectDataConverter(name === 'on' ? config.payloadKeyring : undefined);
      const dataConverter: DataConverter = {
        ...converter,
        payloadCodecs: converter.payloadCodecs?.map(recordingCodec),
      };
      const prefix = `bench-codec-${name}-${round}-${Date.now().toString(36)}`;
      const set = await createWorkerSet({
        connection: nativeConnection,
        dataConverter,
        namespace,
        taskQueuePrefix: prefix,
        activities: buildActivities(config),
        workflowBundle,
      });
      const running = set.run();
      const client = new Client({ connection, namespace, dataConverter });
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
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
      const one = async (i: number) => {
        const reference = `bench-${name}-${i}-${prefix.slice(-6)}`;
        const res = await fetch(`${base}/v1/customers`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            reference,
            firstName: 'Ada',
            lastName: 'Lovelace',
            email: 'ada@example.com',
            phone: '+44 20 7946 0958',
            company: `Bench ${name} ${i} ${prefix.slice(-6)}`,
            address: { street: '1 Main St', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
          }),
        });
        if (res.status !== 202) throw new Error(`POST /v1/customers answered ${res.status}`);
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
      recording = name === 'on';
      const cpuBefore = process.cpuUsage();
      const serverBefore = temporalServerCpuMs();
      const started = performance.now();
      await runMany(warmup, customers);
      const cpu = process.cpuUsage(cpuBefore);
      recording = false;
      const serverMs = temporalServerCpuMs() - serverBefore;
      const wallMs = performance.now() - started;
      await app.close();
      set.shutdown();
      await running;
      const processMs = (cpu.user + cpu.system) / 1000;
      console.log(
        `round ${round} codec ${name}: ${customers} flows in ${(wallMs / 1000).toFixed(1)} s; CPU per flow: API+worker ${(processMs / customers).toFixed(2)} ms, Temporal server ${(serverMs / customers).toFixed(2)} ms`,
      );
      return { processMs, serverMs };
    };

    const zero = () => ({ processMs: 0, serverMs: 0 });
    const total = { off: zero(), on: zero() };
    for (let round = 1; round <= rounds; round++) {
      for (const name of ['off', 'on'] as const) {
        const r = await phase(name, round);
        total[name].processMs += r.processMs;
        total[name].serverMs += r.serverMs;
      }
    }
    const flows = customers * rounds;
    const per = (x: number) => (x / flows).toFixed(2);
    const more = (on: number, off: number) => `${((on / off - 1) * 100).toFixed(1)} %`;
    const { off, on } = total;
    console.log(
      `CPU per customer flow over ${flows} flows each: API+worker off ${per(off.processMs)} ms, on ${per(on.processMs)} ms = ${more(on.processMs, off.processMs)} more; ` +
        `Temporal server off ${per(off.serverMs)} ms, on ${per(on.serverMs)} ms; ` +
        `both off ${per(off.processMs + off.serverMs)} ms, on ${per(on.processMs + on.serverMs)} ms = ${more(on.processMs + on.serverMs, off.processMs + off.serverMs)} more`,
    );
    // Replay what the codec did in the measured flows, alone, to time the codec itself.
    const codec = new AesGcmPayloadCodec(config.payloadKeyring);
    const payloads = recorded.reduce((n, r) => n + r.payloads.length, 0);
    const before = process.cpuUsage();
    for (let i = 0; i < replays; i++) for (const r of recorded) await codec[r.op](r.payloads);
    const used = process.cpuUsage(before);
    const codecMsPerFlow = (used.user + used.system) / 1000 / replays / flows;
    const offPerFlow = off.processMs / flows;
    console.log(
      `inside the codec: ${codecMsPerFlow.toFixed(3)} ms CPU per flow (${(payloads / flows).toFixed(1)} payloads encoded or decoded per flow, replayed ${replays} times) = ` +
        `${((codecMsPerFlow / offPerFlow) * 100).toFixed(2)} % of the API+worker CPU per flow with the codec off, ` +
        `${((codecMsPerFlow / ((off.processMs + off.serverMs) / flows)) * 100).toFixed(2)} % of API+worker+server (target: at most 5 %)`,
    );
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('payload-codec benchmark failed:', err);
    process.exit(1);
  },
);
