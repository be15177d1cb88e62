import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { inject, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

/** Runs the production worker entry point (`npm run worker`) as its own process until it exits. */
function runWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', resolve(root, 'src/workers/main.ts')],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: 60_000,
      },
      (_err, _stdout, stderr) => done({ code: child.exitCode, stderr }),
    );
  });
}

describe('worker start-up', () => {
  it('a bad memory setting names the variable and exits 2 before connecting anywhere', async () => {
    const result = await runWorker({ WORKER_WORKFLOW_HEAP_MB: '64', LOG_LEVEL: 'ERROR' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('WORKER_WORKFLOW_HEAP_MB: at least 128 (MiB)');
  });

  it('a bad main-thread heap setting names the variable and exits 2 before restarting itself', async () => {
    const result = await runWorker({ WORKER_MAIN_SEMI_SPACE_MB: '0', LOG_LEVEL: 'ERROR' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('WORKER_MAIN_SEMI_SPACE_MB: at least 1 (MiB)');
  });

  it('a worker pointed at a namespace that does not exist says so and exits non-zero', async () => {
    const namespace = `missing-${randomUUID().slice(0, 8)}`;
    const address = inject('temporalAddress');
    const result = await runWorker({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      LOG_LEVEL: 'ERROR',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `namespace "${namespace}" does not exist on the Temporal server at ${address}`,
    );
  });
});
