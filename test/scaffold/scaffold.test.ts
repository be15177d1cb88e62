import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run new:system` and `npm run new:flow` on a copy of the project: the result compiles, is formatted,
 * and its generated tests pass on the first run (against the generated simulator, and on a real Temporal
 * server with the real workers), with no edit by hand.
 */
const root = resolve(__dirname, '../..');
const skipped = new Set(['node_modules', '.git', '.data', '.tools', 'dist', 'coverage', '.ci-results']);

describe('scaffold: a new system and a new flow, generated into a copy of the project', () => {
  let copy: string;
  // Asynchronous, so this test's worker keeps answering the runner while the commands run.
  const run = async (command: string, args: string[]) => {
    const { stdout } = await promisify(execFile)(join(copy, 'node_modules/.bin', command), args, {
      cwd: copy,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // The inner vitest run is a run of its own, not a worker of this one.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST'))),
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
    });
    return stdout;
  };

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'scaffold-'));
    cpSync(root, copy, {
      recursive: true,
      filter: (src) => {
        const rel = relative(root, src);
        return !skipped.has(rel.split('/')[0]!) && !rel.startsWith('bench/results');
      },
    });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    if (existsSync(join(root, '.tools'))) symlinkSync(join(root, '.tools'), join(copy, '.tools'));
  });
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('generates files and registrations that compile, and tests that pass against the generated simulator', async () => {
    const system = await run('tsx', ['scripts/scaffold/main.ts', 'system', 'demo']);
    expect(system).toContain('created 6 files');
    const flow = await run('tsx', ['scripts/scaffold/main.ts', 'flow', 'demo-archive']);
    expect(flow).toContain('created 4 files');
    expect(readFileSync(join(copy, 'src/systems/catalog.ts'), 'utf8')).toMatch(
      /systemNames = \[[^\]]*'demo'\]/,
    );
    // The flow has its start spec: startable by POST /v1/flows/demoArchive/runs (its generated test does).
    expect(readFileSync(join(copy, 'src/runs/start-specs.ts'), 'utf8')).toMatch(
      /\n {2}demoArchive: startable\(\{/,
    );

    // Compiles: every table keyed by SystemName or by the workflow types has its entry.
    await run('tsc', ['--noEmit', '-p', '.']);
    await run('prettier', ['--check', 'src', 'test', 'docs']);

    const tests = await run('vitest', [
      'run',
      'test/activities/demo.test.ts',
      'test/workflows/demo-archive.test.ts',
      'test/unit/workflow-types.test.ts',
    ]);
    expect(tests).toMatch(/Tests\s+8 passed \(8\)/);
    // A second run of the same name is refused, and nothing is overwritten.
    await expect(run('tsx', ['scripts/scaffold/main.ts', 'system', 'demo'])).rejects.toThrow(
      /demo is a system already/,
    );
  }, 540_000);
});
