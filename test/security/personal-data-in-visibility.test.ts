import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerSchema } from '../../src/domain/customer';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startApi } from '../support/api';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import type { RunningWorkers } from '../support/workers';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * The rule of docs/security.md: workflow ids, run ids, task queues and search attributes are stored and
 * indexed in plain text (payload codecs never see them), so they carry business keys and system ids,
 * never personal data. A marker customer runs end to end (customer creation, its notification, the
 * entity workflows it feeds), then everything visibility shows about every run on the test's queue is
 * read raw from the server and searched for each personal value.
 */
/** The value with every byte field (search attribute values, memo payloads) read as UTF-8 text. */
function readable(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(readable);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v)]));
  return value;
}

describe('personal data in workflow ids and search attributes', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let workers: RunningWorkers;
  let api: Awaited<ReturnType<typeof startApi>>;
  const prefix = uniquePrefix('pii-vis');
  const m = randomBytes(5).toString('hex');
  const customer = {
    reference: `${prefix}-ref`,
    firstName: `Vf${m}`,
    lastName: `Vl${m}`,
    email: `vis-${m}@example.com`,
    phone: '+44 20 7946 0958',
    company: `Vc${m} Ltd`,
    address: { street: `${m} Visible Rd`, city: `Vt${m}`, postalCode: 'SW1Y 4JH', country: 'GB' },
  };
  const normalised = customerSchema.parse(customer);
  const personal = [
    customer.firstName,
    customer.lastName,
    customer.email,
    customer.phone,
    normalised.phone!,
    customer.company,
    customer.address.street,
    customer.address.city,
    m, // the marker itself, in any field
  ];
  let visible = '';
  let runs = 0;

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, { taskQueuePrefix: prefix });
    const started = await api.call('POST', '/v1/customers', customer, {
      'idempotency-key': `${prefix}-idem`,
    });
    expect(started.status).toBe(202);
    await waitFor(
      'the customer run to complete',
      async () => (await api.call('GET', started.body.statusUrl)).body.status === 'COMPLETED',
      40_000,
    );
    const queue = taskQueueName(prefix, coordinatorQueue);
    // Raw visibility records (no data converter): what the server stores, indexes and shows.
    const rendered: unknown[] = [];
    await waitFor('the runs to be visible with their search attributes', async () => {
      rendered.length = 0;
      const res = await t.client.workflowService.listWorkflowExecutions({
        namespace: t.namespace,
        query: `TaskQueue = '${queue}'`,
        pageSize: 1000,
      });
      for (const info of res.executions ?? []) rendered.push(info);
      const text = JSON.stringify(readable(rendered));
      return text.includes(customer.reference) && text.includes('SalesforceId') ? text : undefined;
    }).then((text) => {
      visible = text;
      runs = rendered.length;
    });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  it('sees the run and its search attributes (the check is not vacuous)', () => {
    expect(runs).toBeGreaterThanOrEqual(1);
    for (const name of ['BusinessKey', 'IntegrationFlow', 'SalesforceId', 'IdempotencyKey'])
      expect(visible).toContain(name);
    expect(visible).toContain(customer.reference);
    // Search attribute values are read as text: the Salesforce id and the flow name are there.
    expect(visible).toMatch(/001[A-Za-z0-9]{15}/);
    expect(visible).toContain(`${prefix}-idem`);
  });

  it('no workflow id, run, type, queue, memo or search attribute value carries personal data', () => {
    for (const value of personal) expect(visible.includes(value), value).toBe(false);
  });

  it('the personal data did flow (it reached Salesforce), so it had the chance to leak', () => {
    const accounts = JSON.stringify(env.salesforce.records('Account'));
    expect(accounts).toContain(customer.company);
  });
});
