import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDataConverter, workflowBundle } from '../support/temporal';

/**
 * The determinism guard: every recorded history under test/histories/ must replay with the current
 * workflow code. A change that would break running workflows fails here, before it is deployed.
 * Record a new history with `npm run history:record -- <workflowId> <name>` (see docs/operations.md).
 */
const dir = resolve(__dirname, '../histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  let bundle: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    bundle = await workflowBundle();
  });

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays without a determinism violation', async (file) => {
    const history = JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
    await expect(
      // With the payload codec the workers run with: it passes the unencoded recorded payloads through.
      Worker.runReplayHistory(
        { workflowBundle: bundle, replayName: file, dataConverter: testDataConverter },
        history as never,
      ),
    ).resolves.toBeUndefined();
  });
});
