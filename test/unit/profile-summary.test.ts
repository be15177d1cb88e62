import { describe, expect, it } from 'vitest';
import { categoryOf, summarise } from '../../bench/flow-cost/profile-summary';

describe('CPU profile summary (bench/flow-cost/profile-summary.ts)', () => {
  it('puts each frame in its package, the SDK parts, the sandbox bundle or the project', () => {
    expect(categoryOf('file:///app/node_modules/@temporalio/worker/lib/worker.js', 'f')).toBe(
      '@temporalio/worker',
    );
    expect(categoryOf('file:///app/node_modules/soap/lib/client.js', 'f')).toBe('soap');
    expect(categoryOf('node:internal/streams/readable', 'f')).toBe('Node internals');
    expect(categoryOf('file:///app/src/activities/sap/client.ts', 'f')).toBe('project code (src/)');
    expect(categoryOf('', '(garbage collector)')).toBe('V8 garbage collector');
    expect(categoryOf('', '(idle)')).toBe('(idle)');
  });

  it('sums self time per category and function, leaving idle time out', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const s = summarise({
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('parse', 'file:///a/node_modules/fast-xml-parser/p.js') },
        { id: 4, callFrame: frame('run', 'file:///a/src/x.ts') },
      ],
      samples: [2, 3, 3, 4, 2],
      timeDeltas: [5000, 1000, 2000, 1000, 9000],
    });
    expect(s.busyMs).toBe(4);
    expect(s.categories).toEqual([
      ['fast-xml-parser', 3000],
      ['project code (src/)', 1000],
    ]);
    expect(s.functions[0]).toEqual(['parse fast-xml-parser/p.js:1 [fast-xml-parser]', 3000]);
  });
});
