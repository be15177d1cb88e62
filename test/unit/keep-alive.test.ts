import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { heartbeat, keepingAlive } from '../../src/activities/heartbeat';

/** Resolves once `condition` holds (checked every few ms; no fixed sleep). */
const until = (condition: () => boolean) =>
  new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (condition()) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });

/** An activity context with the given info whose heartbeats are recorded in `seen`. */
function activity(info: { heartbeatTimeoutMs?: number; isLocal?: boolean }) {
  const env = new MockActivityEnvironment(info);
  const seen: unknown[] = [];
  env.on('heartbeat', (d: unknown) => seen.push(d));
  const run = (work: () => Promise<void>) => env.run(() => keepingAlive(Context.current(), work));
  return { seen, run };
}

describe('keep-alive heartbeats (dead-worker detection)', () => {
  it('heartbeats while a call with a heartbeat timeout is still running', async () => {
    const a = activity({ heartbeatTimeoutMs: 150 });
    await a.run(() => until(() => a.seen.length >= 3));
    expect(a.seen).toEqual([undefined, undefined, undefined]);
  });

  it('repeats the progress details the activity sent last instead of erasing them', async () => {
    const a = activity({ heartbeatTimeoutMs: 150 });
    await a.run(async () => {
      heartbeat({ page: 7 });
      await until(() => a.seen.length >= 3);
    });
    expect(a.seen.slice(0, 3)).toEqual([{ page: 7 }, { page: 7 }, { page: 7 }]);
  });

  it('sends nothing for a call without a heartbeat timeout, or for a local activity', async () => {
    for (const info of [{ heartbeatTimeoutMs: undefined }, { heartbeatTimeoutMs: 150, isLocal: true }]) {
      const a = activity(info);
      let ran = false;
      await a.run(async () => {
        // Longer than the keep-alive interval would be (50 ms), shorter than any test timeout.
        await new Promise<void>((r) => setTimeout(r, 120));
        ran = true;
      });
      expect(ran).toBe(true);
      expect(a.seen).toEqual([]);
    }
  });
});
