import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const MiB = 1024 * 1024;
const run = promisify(execFile);

interface HeapReport {
  mainLimit: number;
  mainLimitAfter: number;
  thread: { limit: number; newSpace: number };
}

/**
 * In a process of its own (the flags are process-wide): sizes the heap of new threads the way the
 * worker does before the SDK creates its workflow thread, starts a thread, and reports both heaps.
 */
async function heapsAfterSizing(oldSpaceMb: number, semiSpaceMb: number): Promise<HeapReport> {
  const script = `
    const { Worker } = require('node:worker_threads');
    const { getHeapStatistics } = require('node:v8');
    const { sizeWorkflowThreadHeap } = require(${JSON.stringify(resolve(root, 'src/workers/workflow-thread-heap.ts'))});
    const mainLimit = getHeapStatistics().heap_size_limit;
    sizeWorkflowThreadHeap({ oldSpaceMb: ${oldSpaceMb}, semiSpaceMb: ${semiSpaceMb} });
    const thread = new Worker(
      "const v8 = require('node:v8');" +
      "let garbage = []; for (let i = 0; i < 300000; i++) garbage.push({ i }); garbage = null;" +
      "const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');" +
      "require('node:worker_threads').parentPort.postMessage({ limit: v8.getHeapStatistics().heap_size_limit, newSpace: young.space_size });",
      { eval: true },
    );
    thread.once('message', (heap) => {
      console.log(JSON.stringify({ mainLimit, mainLimitAfter: getHeapStatistics().heap_size_limit, thread: heap }));
      void thread.terminate();
    });
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim()) as HeapReport;
}

describe('heap of the workflow thread', () => {
  it('gives threads created afterwards the configured heap, and leaves the main thread’s as it was', async () => {
    const heaps = await heapsAfterSizing(256, 2);
    // The limit is the old generation plus the young one (a few semi-spaces).
    expect(heaps.thread.limit).toBeGreaterThanOrEqual(256 * MiB);
    expect(heaps.thread.limit).toBeLessThan(300 * MiB);
    // Two semi-spaces of 2 MiB, against 2 x 16 MiB without the flag (64-bit, a few GB of memory).
    expect(heaps.thread.newSpace).toBeLessThanOrEqual(4 * MiB);
    expect(heaps.mainLimitAfter).toBe(heaps.mainLimit);
    expect(heaps.mainLimit).not.toBe(heaps.thread.limit);
  });
});
