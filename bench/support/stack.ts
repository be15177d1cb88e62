/**
 * Pieces the CDC and batch-sync benchmarks share: argument checks, waiting on a condition, latency
 * statistics, and the simulators in a process of their own on ephemeral ports.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export class UsageError extends Error {}

/** `raw` as a whole number from `min` to `max` (no upper bound when `max` is left out), else a UsageError. */
export function intArg(
  name: string,
  raw: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `from ${min} up` : `from ${min} to ${max}`;
    throw new UsageError(`${name} must be an integer ${range} (got ${raw ?? 'nothing'})`);
  }
  return n;
}

/** The options from the command line, or the usage text: exit 0 for --help, 2 for bad parameters. */
export function optionsOrExit<T>(parse: (argv: string[]) => T, usage: string): T {
  try {
    return parse(process.argv.slice(2));
  } catch (err) {
    if (process.argv.includes('--help')) {
      console.log(usage);
      process.exit(0);
    }
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

/** `raw` if it is one of `allowed`, else a UsageError naming the setting. */
export function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw))
    throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got ${raw})`);
  return raw as T;
}

/**
 * The settings of a benchmark configured by environment variables, read by `read` (which throws a
 * UsageError for a bad value): `--help` prints the usage and exits 0; an argument, or a bad value,
 * prints the reason and the usage and exits 2.
 */
export function envSettingsOrExit<T>(read: (env: NodeJS.ProcessEnv) => T, usage: string): T {
  return optionsOrExit((argv) => {
    if (argv.length > 0) throw new UsageError(`this benchmark takes no arguments (got ${argv.join(' ')})`);
    return read(process.env);
  }, usage);
}

/** Whole-number settings from the environment, each a whole number from `min` up (as envSettingsOrExit). */
export function envIntegersOrExit<K extends string>(
  spec: Record<K, { default: number; min: number }>,
  usage: string,
): Record<K, number> {
  return envSettingsOrExit((env) => {
    const values = {} as Record<K, number>;
    for (const name of Object.keys(spec) as K[]) {
      const { default: fallback, min } = spec[name];
      values[name] = intArg(name, env[name] ?? String(fallback), min);
    }
    return values;
  }, usage);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function stats(values: number[]): Stats {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
  const r = (n: number) => Math.round(n * 10) / 10;
  return {
    count: values.length,
    p50: r(at(50)),
    p95: r(at(95)),
    p99: r(at(99)),
    max: r(sorted.length ? sorted[sorted.length - 1]! : NaN),
    mean: r(mean),
  };
}

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export interface SimulatorProcess {
  child: ChildProcess;
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/** `npm run simulators` in a child process on ephemeral ports; their URLs read from what it prints. */
export async function startSimulatorProcess(): Promise<SimulatorProcess> {
  const env = {
    ...process.env,
    SIM_SALESFORCE_PORT: '0',
    SIM_SAP_PORT: '0',
    SIM_WEBHOOK_PORT: '0',
    SIM_INVENTORY_PORT: '0',
    SIM_BILLING_PORT: '0',
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '../../src/simulators/main.ts')],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const urls: Record<string, string> = {};
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const m of out.matchAll(/^\s{2}(\S+)\s+(http:\/\/127\.0\.0\.1:\d+)/gm)) urls[m[1]!] = m[2]!;
  });
  await waitFor('the simulators', () => (urls.salesforce && urls.sap ? true : undefined), 30_000);
  return {
    child,
    urls,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Writes a run's figures to bench/results/<name>-<time>.json (git-ignored); returns the path. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
}

/** Runs a bench's main: exit 0 when done (a child process, named by its flag, exits on its own), 1 on error. */
export function runBench(name: string, main: () => Promise<void>, childFlag: string): void {
  main().then(
    () => {
      if (!process.argv.includes(childFlag)) process.exit(0);
    },
    (err: unknown) => {
      console.error(`${name} bench failed:`, err);
      process.exit(1);
    },
  );
}
