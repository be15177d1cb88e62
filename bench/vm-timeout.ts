/**
 * What a call into a V8 sandbox costs with and without an execution timeout (a script, not a test):
 * `npx tsx bench/vm-timeout.ts`.
 *
 * The Temporal SDK runs workflow code in a `node:vm` context and enters it several times per workflow
 * activation (activate, unblock conditions, conclude), each time with `timeout` set to the worker's
 * `isolateExecutionTimeout`, its deadlock detection. For each such call Node starts a watchdog thread
 * and joins it afterwards. This measures that price alone: the same trivial script run in a context
 * with `microtaskMode: 'afterEvaluate'` (as the SDK creates it), alternating without and with a
 * timeout, CPU time of the whole process (all threads) and wall time per call.
 *
 * Env: BENCH_CALLS (20000 per round), BENCH_ROUNDS (3). A bad value, or any argument, prints the usage
 * and exits 2.
 */
import { cpus } from 'node:os';
import { createContext, Script } from 'node:vm';
import { envIntegersOrExit } from './support/stack';

const { BENCH_CALLS: calls, BENCH_ROUNDS: rounds } = envIntegersOrExit(
  { BENCH_CALLS: { default: 20_000, min: 1 }, BENCH_ROUNDS: { default: 3, min: 1 } },
  'usage: [BENCH_CALLS=20000] [BENCH_ROUNDS=3] npx tsx bench/vm-timeout.ts',
);

const context = createContext({}, { microtaskMode: 'afterEvaluate' });
const script = new Script('globalThis.n = (globalThis.n ?? 0) + 1');

function measure(options: { timeout?: number }): { cpuUs: number; wallUs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) script.runInContext(context, options);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1_000 / calls;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / calls, wallUs };
}

console.log(
  `vm timeout: ${calls} calls per round, ${rounds} rounds, node ${process.version}, ${cpus().length} CPUs`,
);
console.log('| round | no timeout: CPU / wall µs per call | timeout 5 s: CPU / wall µs per call |');
console.log('| ---: | ---: | ---: |');
measure({}); // warm-up: compile and optimise the loop
for (let r = 1; r <= rounds; r++) {
  const plain = measure({});
  const watched = measure({ timeout: 5_000 });
  console.log(
    `| ${r} | ${plain.cpuUs.toFixed(1)} / ${plain.wallUs.toFixed(1)} | ${watched.cpuUs.toFixed(1)} / ${watched.wallUs.toFixed(1)} |`,
  );
}
