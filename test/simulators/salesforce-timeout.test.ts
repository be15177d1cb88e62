import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// jsforce reads HTTP_TIMEOUT once, when it is first loaded; this file gets its own process and loads
// jsforce only after setting it, so the client gives up long before the simulator answers.
vi.hoisted(() => {
  process.env.HTTP_TIMEOUT = '300';
});

import jsforce from 'jsforce';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { RunningSimulator } from '../../src/simulators/common/server';

const sim = createSalesforceSimulator();
let running: RunningSimulator;

beforeAll(async () => {
  running = await sim.start({ port: 0 });
});
afterAll(async () => {
  await sim.stop();
});

describe('timeout fault', () => {
  it('answers after the client has given up; the work is still done (the classic "did it happen?" case)', async () => {
    const conn = new jsforce.Connection({
      oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: running.url },
      loginUrl: running.url,
      version: '62.0',
    });
    await conn.login('integration@example.com', 'dev-password');
    sim.core.faults.failNext('timeout', 1, { operation: 'create' }, { delayMs: 1000 });
    const err = await conn
      .sobject('Account')
      .create({ Name: 'Late' })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toMatch(/timeout/i);
    expect(sim.records('Account')).toEqual([]);
    // The simulator finishes the request after the delay, as a slow real server would.
    await vi.waitFor(() => expect(sim.records('Account').map((r) => r.Name)).toEqual(['Late']), {
      timeout: 5000,
      interval: 50,
    });
    // The one-shot rule was used up by that request.
    expect(sim.core.faults.state().rules).toEqual([]);
  });
});
