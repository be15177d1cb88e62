import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  mainThreadHeapFlags,
  relaunchWithMainThreadHeap,
  startedWithSemiSpaceSize,
  withoutSemiSpaceSize,
  workerNodeFlags,
} from '../../src/workers/main-thread-heap';

const root = resolve(__dirname, '../..');
const MiB = 1024 * 1024;
const run = promisify(execFile);

interface Report {
  pids: number[];
  warning?: string;
  newSpace: number;
}

/**
 * In a process of its own, started with `nodeFlags`: applies the main thread's heap setting as the
 * worker does first thing, fills the young generation, and reports its size (and every pid the
 * script printed: the process restarts itself in place when it can).
 */
async function mainThreadAfterApplying(semiSpaceMb: number, nodeFlags: string[]): Promise<Report> {
  const script = `
    console.log(JSON.stringify({ pid: process.pid }));
    const { applyMainThreadHeap } = require(${JSON.stringify(resolve(root, 'src/workers/main-thread-heap.ts'))});
    const warning = applyMainThreadHeap(${semiSpaceMb});
    const v8 = require('node:v8');
    let garbage = []; for (let i = 0; i < 3000000; i++) garbage.push({ i }); garbage = null;
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(JSON.stringify({ warning, newSpace: young.space_size }));
  `;
  const { PATH, HOME } = process.env;
  const { stdout } = await run(process.execPath, [...nodeFlags, '--import', 'tsx', '-e', script], {
    cwd: root,
    env: { PATH, HOME },
    timeout: 60_000,
  });
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { pid?: number; warning?: string; newSpace?: number });
  const last = lines.at(-1)!;
  return {
    pids: lines.filter((l) => l.pid !== undefined).map((l) => l.pid!),
    warning: last.warning ?? undefined,
    newSpace: last.newSpace!,
  };
}

const canRestartInPlace = typeof (process as { execve?: unknown }).execve === 'function';

describe('heap of the worker’s main thread', () => {
  it('knows whether the process was started with a semi-space size', () => {
    expect(startedWithSemiSpaceSize(['--import', 'tsx'])).toBe(false);
    expect(startedWithSemiSpaceSize(['--max-semi-space-size=4'])).toBe(true);
    expect(startedWithSemiSpaceSize([], '--enable-source-maps --max_semi_space_size=8')).toBe(true);
    expect(startedWithSemiSpaceSize([], '--max-old-space-size=512')).toBe(false);
  });

  it('restarts with the flag in front of the same node flags and script, unless one was given', () => {
    const proc = {
      execPath: '/usr/bin/node',
      execArgv: ['--import', 'tsx'],
      argv: ['/usr/bin/node', 'src/workers/main.ts'],
    };
    expect(relaunchWithMainThreadHeap(4, { ...proc, env: {} })).toEqual({
      file: '/usr/bin/node',
      args: ['/usr/bin/node', '--max-semi-space-size=4', '--import', 'tsx', 'src/workers/main.ts'],
    });
    expect(
      relaunchWithMainThreadHeap(4, { ...proc, env: { NODE_OPTIONS: '--max-semi-space-size=16' } }),
    ).toBeUndefined();
    expect(withoutSemiSpaceSize(['--max-semi-space-size=4', '--import', 'tsx'])).toEqual(['--import', 'tsx']);
    expect(workerNodeFlags(4)).toEqual(['--max-semi-space-size=4']);
    // The deployment's own NODE_OPTIONS wins over the setting.
    expect(workerNodeFlags(4, '--max-semi-space-size=16')).toEqual([]);
  });

  it('started with the launchers’ flag: the young generation stays within two semi-spaces of that size', async () => {
    const report = await mainThreadAfterApplying(2, mainThreadHeapFlags(2));
    expect(report.pids).toHaveLength(1);
    expect(report.warning).toBeUndefined();
    expect(report.newSpace).toBeLessThanOrEqual(4 * MiB);
  });

  it.runIf(canRestartInPlace)(
    'started without it: the process restarts itself in place with the flag',
    async () => {
      const report = await mainThreadAfterApplying(2, []);
      // The same process (pid) ran the script twice: before and after replacing itself.
      expect(report.pids).toHaveLength(2);
      expect(report.pids[1]).toBe(report.pids[0]);
      expect(report.warning).toBeUndefined();
      expect(report.newSpace).toBeLessThanOrEqual(4 * MiB);
    },
  );

  it.skipIf(canRestartInPlace)(
    'started without it on a Node that cannot replace the process: says so and keeps V8’s default',
    async () => {
      const report = await mainThreadAfterApplying(2, []);
      expect(report.pids).toHaveLength(1);
      expect(report.warning).toContain('WORKER_MAIN_SEMI_SPACE_MB=2');
      expect(report.newSpace).toBeGreaterThan(4 * MiB);
    },
  );
});
