import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeScopes } from '../../src/api/access';
import { AccessKeyring, newAccessKey } from '../../src/security/access-keys';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startApi } from '../support/api';
import { captureLogs } from '../support/logs';
import { connectTemporal, uniquePrefix, workflowIdsOn } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * Scoped API keys over HTTP against a real Temporal server: 401 without a valid key, 403 for a key
 * without the route's scope (and nothing started, signalled or cancelled), 429 with Retry-After past a
 * key's own rate, an audit line for every operate action; the single API_TOKEN keeps working.
 */
describe('API keys with scopes', () => {
  const starter = newAccessKey('starter', ['flows:start']);
  const reader = newAccessKey('reader', ['runs:read']);
  const operator = newAccessKey('operator', ['runs:read', 'runs:operate']);
  const tight = newAccessKey('tight', ['runs:read'], 3);
  const prefix = uniquePrefix('keys');
  let t: TemporalTestContext;
  let api: Awaited<ReturnType<typeof startApi>>;
  let logs: ReturnType<typeof captureLogs>;
  const as = (key: { key: string }) => ({ authorization: `Bearer ${key.key}` });
  const customer = (reference: string) => ({
    reference,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    address: { street: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  });
  const runsOnQueue = () => workflowIdsOn(t.client, taskQueueName(prefix, coordinatorQueue));

  beforeAll(async () => {
    t = await connectTemporal();
    logs = captureLogs('info');
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      accessKeys: new AccessKeyring([starter.entry, reader.entry, operator.entry, tight.entry]),
      loggerInstance: logs.apiLogger,
    });
  });
  afterAll(async () => {
    for (const id of await runsOnQueue().catch(() => []))
      await t.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    logs?.stop();
    await api?.close();
    await t?.close();
  });

  it('every /v1 route the API serves has its scope in the table (none fell back to admin-only)', () => {
    const unscoped = logs.lines.filter((l) => l.includes('route has no scope'));
    expect(unscoped).toEqual([]);
    for (const route of Object.keys(routeScopes)) {
      const [method, url] = route.split(' ') as [string, string];
      if (url === '/v1/report') continue; // served only with a report configuration
      expect(api.app.hasRoute({ method: method, url }), route).toBe(true);
    }
  });

  it('401 without a key or with a forged one; 403 for a key without the scope, starting nothing', async () => {
    const none = await fetch(`${api.baseUrl}/v1/runs`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const forged = await api.call('GET', '/v1/runs', undefined, {
      authorization: `Bearer ${reader.key.slice(0, -3)}abc`,
    });
    expect(forged.status).toBe(401);
    const refused = await api.call('POST', '/v1/customers', customer(`${prefix}-r`), as(reader));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining('flows:start'),
    });
    expect(await runsOnQueue()).toEqual([]);
  });

  it('a start key starts but cannot read or cancel; a read key reads but cannot cancel; an operate key cancels', async () => {
    const started = await api.call('POST', '/v1/customers', customer(`${prefix}-s`), as(starter));
    expect(started.status).toBe(202);
    const { workflowId } = started.body as { workflowId: string };
    expect((await api.call('GET', `/v1/runs/${workflowId}`, undefined, as(starter))).status).toBe(403);
    const read = await api.call('GET', `/v1/runs/${workflowId}`, undefined, as(reader));
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('RUNNING');

    const denied = await api.call('POST', `/v1/runs/${workflowId}/cancel`, undefined, as(reader));
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('runs:operate');
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(false);

    const cancelled = await api.call('POST', `/v1/runs/${workflowId}/cancel`, undefined, as(operator));
    expect(cancelled.status).toBe(202);

    const audit = logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.audit === 'api.operate');
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          keyId: 'reader',
          method: 'POST',
          route: '/v1/runs/:workflowId/cancel',
          target: workflowId,
          statusCode: 403,
          service: 'integration-api',
        }),
        expect.objectContaining({ keyId: 'operator', target: workflowId, statusCode: 202 }),
      ]),
    );
    // Reads are not audited; every line names the key, never the token.
    expect(audit.every((l) => l.route !== '/v1/runs/:workflowId')).toBe(true);
    expect(logs.lines.join('\n')).not.toContain(operator.key);
  });

  it('limits each key to its own rate: 429 with Retry-After, other keys unaffected', async () => {
    for (let i = 0; i < 3; i++)
      expect((await api.call('GET', '/v1/runs', undefined, as(tight))).status).toBe(200);
    const limited = await api.call('GET', '/v1/runs', undefined, as(tight));
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await api.call('GET', '/v1/runs', undefined, as(reader))).status).toBe(200);
  });

  it('the OpenAPI document names the scope of each operation and its 401, 403 and 429 answers', async () => {
    const doc = (await fetch(`${api.baseUrl}/openapi.json`).then((r) => r.json())) as {
      paths: Record<
        string,
        Record<string, { 'x-required-scope'?: string; responses: Record<string, unknown> }>
      >;
    };
    const cancel = doc.paths['/v1/runs/{workflowId}/cancel']!.post!;
    expect(cancel['x-required-scope']).toBe('runs:operate');
    expect(Object.keys(cancel.responses)).toEqual(expect.arrayContaining(['401', '403', '429', '202']));
    expect(doc.paths['/v1/customers']!.post!['x-required-scope']).toBe('flows:start');
    expect(doc.paths['/healthz']!.get!['x-required-scope']).toBeUndefined();
  });

  it('the single API_TOKEN still holds every scope', async () => {
    const res = await api.call('GET', '/v1/runs');
    expect(res.status).toBe(200);
  });
});
