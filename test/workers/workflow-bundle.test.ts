import { Worker } from '@temporalio/worker';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerSet } from '../../src/workers/worker-set';
import { bundleWorkflowsInChild } from '../../src/workers/workflow-bundle';
import { connectTemporal, testDataConverter, uniquePrefix } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

const history = resolve(__dirname, '../histories/customer-creation-completed.json');

describe('workflow bundle built in a child process', () => {
  let t: TemporalTestContext;
  beforeAll(async () => {
    t = await connectTemporal();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is read from its file: workflows replay from it, and the worker keeps the path, not the code', async () => {
    const bundle = await bundleWorkflowsInChild({ tracing: false, instrumentation: true });
    try {
      expect(existsSync(bundle.codePath)).toBe(true);
      // A recorded history replays with the bundle read from the file.
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: { codePath: bundle.codePath }, dataConverter: testDataConverter },
          JSON.parse(readFileSync(history, 'utf8')) as never,
        ),
      ).resolves.toBeUndefined();
      const set = await createWorkerSet({
        connection: t.nativeConnection,
        dataConverter: t.dataConverter,
        namespace: t.namespace,
        taskQueuePrefix: uniquePrefix('bundle-file'),
        activities: {},
        workflowBundle: { codePath: bundle.codePath },
      });
      // The SDK keeps the option it was given for the worker's life: the path, not the bundle's source.
      expect(set.workers[0]!.options.workflowBundle).toEqual({ codePath: bundle.codePath });
      const running = set.run();
      set.shutdown();
      await running;
    } finally {
      await bundle.remove();
    }
    expect(existsSync(bundle.codePath)).toBe(false);
  });
});
