import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { customerSchema } from '../../src/domain/customer';
import { AccessKeyring, newAccessKey } from '../../src/security/access-keys';
import { startSpecs } from '../../src/runs/start-specs';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { serviceWorkflowTypes } from '../../src/workflows/workflow-types';
import { settleRun, startApi } from '../support/api';
import { customerBody } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { captureLogs } from '../support/logs';
import { connectTemporal, uniquePrefix, workflowIdsOn } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * `POST /v1/flows/{type}/runs`: any startable flow of the registry started by one route, over HTTP on a
 * real Temporal server with the real workers and simulators: validated by the flow's schema, started on
 * the service's queue with the flow's search attributes, idempotent as documented, refused for flows
 * callers do not start, for unknown types and for keys without the scopes.
 */
describe('API: generic flow start (flows registry)', () => {
  const starter = newAccessKey('starter', ['flows:start']);
  const reader = newAccessKey('reader', ['runs:read']);
  const operator = newAccessKey('operator', ['runs:read', 'runs:operate']);
  const startOperator = newAccessKey('start-operator', ['flows:start', 'runs:operate']);
  const as = (key: { key: string }) => ({ authorization: `Bearer ${key.key}` });
  const prefix = uniquePrefix('flowstart');
  const workflowQueue = taskQueueName(prefix, coordinatorQueue);
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    logs = captureLogs('info');
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      notificationRetry: { initialInterval: '100ms', maximumAttempts: 2 },
      accessKeys: new AccessKeyring([starter.entry, reader.entry, operator.entry, startOperator.entry]),
      loggerInstance: logs.apiLogger,
    });
  });
  afterAll(async () => {
    logs?.stop();
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  const runsOnQueue = (query = '') => workflowIdsOn(t.client, workflowQueue, query);
  const start = (type: string, body: unknown, headers: Record<string, string> = {}) =>
    api.call('POST', `/v1/flows/${type}/runs`, body, headers);

  it('starts a customer creation with its schema and search attributes; a repeat answers the same run, by either route', async () => {
    const c = customerBody('generic', {
      email: ' Ada@Example.COM ',
      address: { ...customerBody('x').address, country: 'gb' },
    });
    const res = await start('customerCreation', c, as(starter));
    expect(res.status).toBe(202);
    const workflowId = `customer-creation:${c.reference}`;
    expect(res.body).toEqual({
      workflowId,
      runId: expect.any(String),
      statusUrl: `/v1/runs/${encodeURIComponent(workflowId)}`,
    });
    const done = await settleRun(api, res.body.statusUrl);
    expect(done.body).toMatchObject({ status: 'COMPLETED', workflowType: 'customerCreation' });
    expect(env.salesforce.records('Account').filter((a) => a.Integration_Id__c === c.reference)).toHaveLength(
      1,
    );
    const d = await t.client.workflow.getHandle(workflowId).describe();
    expect(d.taskQueue).toBe(workflowQueue);
    // The run gets the customer as the schema returned it, stamped as validated: it does not validate again.
    const started = await t.client.workflow.getHandle(workflowId).fetchHistory();
    const [input] = await decodeArrayFromPayloads(
      t.client.options.loadedDataConverter,
      started.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads,
    );
    expect(input).toMatchObject({ customer: customerSchema.parse(c), customerValidated: true });
    expect(d.searchAttributes).toMatchObject({
      IntegrationFlow: ['customer-creation'],
      BusinessKey: [c.reference],
    });

    const again = await start('customerCreation', c, as(starter));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      workflowId,
      runId: res.body.runId,
      status: 'COMPLETED',
      existing: true,
    });
    const viaCustomers = await api.call('POST', '/v1/customers', c, as(starter));
    expect(viaCustomers.status).toBe(200);
    expect(viaCustomers.body).toMatchObject({ workflowId, runId: res.body.runId, existing: true });
    const changed = await start('customerCreation', { ...c, firstName: 'Augusta' }, as(starter));
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ error: 'conflict', details: { workflowId, status: 'COMPLETED' } });
    expect(env.salesforce.records('Account').filter((a) => a.Integration_Id__c === c.reference)).toHaveLength(
      1,
    );
  });

  it('starts a notification (an operator flow): delivered once, signed; the same event again is the same run', async () => {
    const event = {
      sourceKey: uniquePrefix('announce'),
      type: 'catalog.published',
      data: { catalog: 'spring' },
      occurredAt: '2026-03-01T09:00:00.000Z',
    };
    const res = await start('notificationDelivery', event, as(startOperator));
    expect(res.status).toBe(202);
    expect(res.body.workflowId).toBe(`notification:catalog.published:${event.sourceKey}`);
    const done = await settleRun(api, res.body.statusUrl);
    expect(done.body.status).toBe('COMPLETED');
    expect(done.body.result.deliveries).toEqual([
      expect.objectContaining({ subscriber: 'consumer', status: 'delivered' }),
    ]);
    const received = () =>
      env.webhooks
        .deliveries({ type: event.type })
        .filter((d) => (d.body as { data?: { catalog?: string } }).data?.catalog === 'spring');
    expect(received()).toHaveLength(1);
    expect(received()[0]).toMatchObject({ verified: true, status: 200 });

    const again = await start('notificationDelivery', event, as(startOperator));
    expect(again).toMatchObject({ status: 200, body: { runId: res.body.runId, existing: true } });
    const other = await start(
      'notificationDelivery',
      { ...event, data: { catalog: 'summer' } },
      as(startOperator),
    );
    expect(other.status).toBe(409);
    expect(received()).toHaveLength(1);
    // The start is an operate action: audited with the key, the flow and the answer.
    const audit = logs.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.audit === 'api.operate' && l.target === 'notificationDelivery');
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ keyId: 'start-operator', statusCode: 202 }),
        expect.objectContaining({ keyId: 'start-operator', statusCode: 409 }),
      ]),
    );
  });

  it('starts a reconciliation per request; with an Idempotency-Key a repeated request answers its run', async () => {
    const key = uniquePrefix('recon-key');
    const headers = { ...as(startOperator), 'idempotency-key': key };
    const res = await start('reconciliation', { selfHeal: false, driftThreshold: 1000 }, headers);
    expect(res.status).toBe(202);
    expect(res.body.workflowId).toBe(`reconciliation:customers:${key}`);
    const again = await start('reconciliation', { selfHeal: false, driftThreshold: 1000 }, headers);
    expect(again).toMatchObject({ status: 200, body: { runId: res.body.runId, existing: true } });
    const reused = await start('reconciliation', { selfHeal: true, driftThreshold: 1000 }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.error).toBe('idempotency_key_reused');
    const report = await t.client.workflow.getHandle(res.body.workflowId).result();
    expect(report).toMatchObject({ name: 'customers', selfHeal: false });
    const served = await api.call(
      'GET',
      `/v1/reconciliations/${res.body.workflowId}`,
      undefined,
      as(operator),
    );
    expect(served.body).toMatchObject({ status: 'COMPLETED', report: { name: 'customers' } });
    // Still the first run under that id: the repeats started none.
    expect((await t.client.workflow.getHandle(res.body.workflowId).describe()).runId).toBe(res.body.runId);
  });

  const bad = uniquePrefix('bad');
  it.each([
    [
      'customerCreation',
      { reference: `${bad}-c`, firstName: 'Ada' },
      'the customer is invalid',
      `customer-creation:${bad}-c`,
    ],
    [
      'customerCreation',
      { ...customerBody('x'), reference: 'has spaces' },
      'the customer is invalid',
      'customer-creation:has spaces',
    ],
    ['customerCreation', [], 'the customer is invalid', undefined],
    [
      'notificationDelivery',
      { sourceKey: `${bad}-n`, type: 'NoDot', data: {}, occurredAt: 'yesterday' },
      'the event is invalid',
      `notification:NoDot:${bad}-n`,
    ],
    [
      'reconciliation',
      { driftThreshold: -1, extra: true },
      'the reconciliation request is invalid',
      `reconciliation:customers:${bad}-r`,
    ],
  ])(
    '%s: a body its schema refuses is 400 with every issue, and nothing starts (%#)',
    async (type, body, message, wouldBeId) => {
      // The key names the run a per-request flow would have started (reconciliation:customers:<key>).
      const res = await start(type, body, { ...as(startOperator), 'idempotency-key': `${bad}-r` });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message });
      expect(res.body.details.length).toBeGreaterThan(0);
      for (const d of res.body.details)
        expect(d).toEqual({ path: expect.any(String), message: expect.any(String) });
      if (wouldBeId) {
        await expect(t.client.workflow.getHandle(wouldBeId).describe()).rejects.toBeInstanceOf(
          WorkflowNotFoundError,
        );
      }
    },
  );

  it('every flow callers do not start is refused with 409 and its reason, starting nothing', async () => {
    const refused = serviceWorkflowTypes.filter(
      (type) => !startSpecs[type as keyof typeof startSpecs].startable,
    );
    expect(refused).toEqual(
      expect.arrayContaining(['accountSync', 'cdcSubscription', 'stuckRunDetector', 'syncState']),
    );
    for (const type of refused) {
      const res = await start(type, {}, as(startOperator));
      expect(res.status, type).toBe(409);
      expect(res.body.error).toBe('not_startable');
      expect(res.body.message).toMatch(new RegExp(`^runs of ${type} are not started by callers: .{20,}`));
    }
    expect(await runsOnQueue(`WorkflowType IN (${refused.map((r) => `'${r}'`).join(', ')})`)).toEqual([]);
  });

  it('an unknown workflow type is 404, also for names an object inherits', async () => {
    for (const type of ['customerDeletion', 'toString', '__proto__']) {
      const res = await start(type, {}, as(starter));
      expect(res.status, type).toBe(404);
      expect(res.body.error).toBe('not_found');
    }
  });

  it('401 without a key; 403 for a key without flows:start, or without the flow’s own scope; nothing starts', async () => {
    const c = customerBody('noscope');
    const none = await fetch(`${api.baseUrl}/v1/flows/customerCreation/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(c),
    });
    expect(none.status).toBe(401);
    expect((await start('customerCreation', c, as(reader))).status).toBe(403);
    // runs:operate alone does not start flows: the route needs flows:start.
    expect((await start('customerCreation', c, as(operator))).status).toBe(403);
    const recon = await start('reconciliation', {}, as(starter));
    expect(recon.status).toBe(403);
    expect(recon.body.message).toContain('runs:operate');
    const event = {
      sourceKey: uniquePrefix('nope'),
      type: 'x.y',
      data: {},
      occurredAt: '2026-03-01T09:00:00Z',
    };
    expect((await start('notificationDelivery', event, as(starter))).status).toBe(403);
    expect(await runsOnQueue(`BusinessKey IN ('${c.reference}', '${event.sourceKey}')`)).toEqual([]);
    expect((await api.call('GET', `/v1/runs/customer-creation:${c.reference}`)).status).toBe(404);
    await expect(
      t.client.workflow.getHandle(`notification:x.y:${event.sourceKey}`).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});
