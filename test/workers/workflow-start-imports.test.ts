import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workflowInterceptorModules, workflowsPath } from '../../src/workers/worker-set';

const root = resolve(__dirname, '../..');

/**
 * The modules a workflow start evaluates: with the reusable V8 context each workflow run gets its own
 * module cache, so everything the workflows import or require at module level (not `import type`, not
 * a `require` inside a function) is evaluated again for every run that starts and every run replayed
 * after leaving the cache. Returns the project files and the packages reached.
 */
function evaluatedAtStart(entries: string[]) {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      ...source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm),
      ...source.matchAll(/^export\s+(type\s+)?(?:\*|\{[^}]*\})\s+from\s+'([^']+)'/gm),
      ...source.matchAll(/^import\s+()'([^']+)'/gm),
      // A require at module level runs at every start too (one inside a function runs when called).
      ...source.matchAll(/^(?:(?:export\s+)?(?:const|let|var)\s+[^=]+=\s*)?require\(()'([^']+)'\)/gm),
    ]
      .filter((m) => !m[1])
      .map((m) => m[2]!);
    for (const spec of specifiers) {
      if (!spec.startsWith('.')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        continue;
      }
      const base = resolve(dirname(file), spec);
      const target = [`${base}.ts`, `${base}/index.ts`].find((f) => existsSync(f));
      if (!target) throw new Error(`${relative(root, file)}: cannot resolve ${spec}`);
      visit(target);
    }
  };
  entries.forEach(visit);
  return { files: [...files].map((f) => relative(root, f)), packages };
}

describe('what every workflow start evaluates', () => {
  const reached = evaluatedAtStart([workflowsPath, ...workflowInterceptorModules]);

  it('covers the workflows and their shared code', () => {
    expect(reached.files).toEqual(
      expect.arrayContaining([
        'src/workflows/index.ts',
        'src/workflows/customer-creation.ts',
        'src/workflows/shared/entity-loop.ts',
        'src/domain/customer-mapping.ts',
      ]),
    );
    expect(reached.packages).toContain('@temporalio/workflow');
  });

  it('does not build the validation schemas: zod is loaded only by the runs that validate a customer', () => {
    expect([...reached.packages]).not.toContain('zod');
    expect(reached.files).not.toContain('src/domain/customer.ts');
  });
});
