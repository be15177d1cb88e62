import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

/**
 * Runs a benchmark script as a user would (`npx tsx bench/<name>.ts`, here node with tsx's loader) and
 * returns how it ended. A benchmark that accepted the bad parameter would start servers and load: the
 * deadline kills it, and the exit code then says so.
 */
function runBench(script: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      done({ code, stdout, stderr });
    });
  });
}

/** Each benchmark with one bad parameter, and what the reason must name. */
const cases: { script: string; args?: string[]; env?: Record<string, string>; names: string }[] = [
  { script: 'bench/flow-cost.ts', args: ['--rates', '2,fast'], names: '--rates' },
  { script: 'bench/flow-cost.ts', args: ['--floor-shape', 'uuu'], names: '--floor-shape' },
  { script: 'bench/cdc.ts', args: ['--duration', '0'], names: '--duration' },
  { script: 'bench/batch-sync.ts', args: ['--records', 'many'], names: '--records' },
  { script: 'bench/ingress.ts', env: { BENCH_RATE: '500/s' }, names: 'BENCH_RATE' },
  { script: 'bench/ingress.ts', args: ['--rate', '500'], names: 'no arguments' },
  { script: 'bench/customer-creation.ts', env: { BENCH_CODEC: 'maybe' }, names: 'BENCH_CODEC' },
  { script: 'bench/scale-out.ts', env: { SCALE_WORKERS: '1,two' }, names: 'SCALE_WORKERS' },
  { script: 'bench/simulators.ts', env: { BENCH_ONLY: 'salesforce,erp' }, names: 'BENCH_ONLY' },
  { script: 'bench/instrumentation.ts', env: { BENCH_ROUNDS: '0' }, names: 'BENCH_ROUNDS' },
  { script: 'bench/payload-codec.ts', env: { BENCH_REPLAYS: '-1' }, names: 'BENCH_REPLAYS' },
  { script: 'bench/vm-timeout.ts', env: { BENCH_CALLS: 'lots' }, names: 'BENCH_CALLS' },
];

describe('a bad benchmark parameter prints the usage and exits 2, before anything starts', () => {
  it.concurrent.each(cases)(
    '$script $args $env',
    async ({ script, args = [], env = {}, names }) => {
      const { code, stdout, stderr } = await runBench(script, args, env);
      expect(code, `${script} ended with ${code}; output:\n${stdout}\n${stderr}`).toBe(2);
      expect(stderr).toContain(names);
      expect(stderr).toMatch(/usage/i);
      // Nothing ran: no benchmark heading on standard output.
      expect(stdout.trim()).toBe('');
    },
    60_000,
  );
});
