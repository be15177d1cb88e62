import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTemporalExecutable } from '../../src/dev/temporal-binary';
import { customerSchema } from '../../src/domain/customer';
import { projectDataConverter } from '../../src/security/data-converter';
import type { connectivityCheck } from '../../src/workflows/connectivity-check';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { allSearchAttributes } from '../../src/workflows/shared/search-attributes';
import { startApi } from '../support/api';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { testDataConverter, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * Where does a customer's personal data end up? A Temporal dev server of its own, writing to a database
 * file; a marker customer created through the API with the payload codec on, and a failure whose
 * message quotes a marker; then every byte of the database file is searched for them. A control run with
 * the codec off writes its own markers to the same file, and those ARE found: the search would see
 * plain text if there were any.
 */
describe('personal data at rest in Temporal (dev server database file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'at-rest-'));
  const dbFile = join(dir, 'temporal.db');
  let server: TestWorkflowEnvironment;
  const contexts: TemporalTestContext[] = [];

  const connect = async (dataConverter: DataConverter): Promise<TemporalTestContext> => {
    const connection = await Connection.connect({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const t: TemporalTestContext = {
      client: new Client({ connection, namespace: 'default', dataConverter }),
      nativeConnection,
      namespace: 'default',
      dataConverter,
      close: async () => {
        await connection.close();
        await nativeConnection.close();
      },
    };
    contexts.push(t);
    return t;
  };

  const marker = () => randomBytes(6).toString('hex');
  const customerWith = (m: string) => ({
    reference: uniquePrefix('atrest'),
    firstName: `Fm${m}`,
    lastName: `Lm${m}`,
    email: `mail-${m}@example.com`,
    phone: `+44 20 ${randomInt(1000, 9999)} ${randomInt(1000, 9999)}`,
    company: `Co${m}`,
    address: {
      street: `${m} Marker Rd`,
      city: `Ct${m}`,
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    },
  });
  const personalValues = (c: ReturnType<typeof customerWith>) => [
    c.firstName,
    c.lastName,
    c.email,
    customerSchema.parse(c).phone!, // as the workflow stores it (normalised)
    c.company,
    c.address.street,
    c.address.city,
  ];

  /** Creates the customer through the API with workers using `dataConverter`; then fails a run whose failure message quotes `failureMarker`. */
  async function runFlows(
    dataConverter: DataConverter,
    customer: ReturnType<typeof customerWith>,
    failureMarker: string,
  ): Promise<void> {
    const t = await connect(dataConverter);
    const env: IntegrationEnvironment = await startIntegrationEnvironment(t);
    const prefix = uniquePrefix('atrest');
    const workers = await env.startWorkers(prefix);
    const api = await startApi(t.client, { taskQueuePrefix: prefix });
    try {
      const started = await api.call('POST', '/v1/customers', customer);
      expect(started.status).toBe(202);
      const done = await waitFor('the customer run to complete', async () => {
        const res = await api.call('GET', started.body.statusUrl);
        return res.body.status === 'COMPLETED' ? res : undefined;
      });
      expect(done.body.result.salesforceId).toMatch(/^001/);
      // An operator with the key still reads everything: the run's input decodes to the customer.
      const history = await t.client.workflow.getHandle(started.body.workflowId).fetchHistory();
      expect(history.events?.length).toBeGreaterThan(5);

      // A failure whose message and stack carry personal data: a probe of an unreachable "system".
      const failing = await t.client.workflow.start<typeof connectivityCheck>('connectivityCheck', {
        workflowId: `${prefix}-failing-probe`,
        taskQueue: taskQueueName(prefix, coordinatorQueue),
        args: [{ targets: [{ system: `Failuremarker${failureMarker}`, url: 'http://127.0.0.1:1/' }] }],
      });
      const failure = (await failing.result().catch((err: unknown) => err)) as { cause?: { cause?: Error } };
      expect(String(failure.cause?.cause?.message)).toContain(`Failuremarker${failureMarker}`);
    } finally {
      await api.close();
      await workers.stop();
      await env.stop();
    }
  }

  const protectedCustomer = customerWith(marker());
  const protectedFailure = marker();
  const controlCustomer = customerWith(marker());
  const controlFailure = marker();
  let database: Buffer;

  beforeAll(async () => {
    server = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: resolveTemporalExecutable(),
        dbFilename: dbFile,
        searchAttributes: [...allSearchAttributes],
        log: { format: 'pretty', level: 'error' },
      },
      client: { dataConverter: testDataConverter },
    });
    await runFlows(testDataConverter, protectedCustomer, protectedFailure);
    await runFlows(projectDataConverter(undefined), controlCustomer, controlFailure);
    for (const t of contexts) await t.close();
    // Stopping the server flushes its database; its write-ahead log, if any, is read as well.
    await server.teardown();
    database = Buffer.concat(
      readdirSync(dir)
        .filter((f) => f.startsWith('temporal.db'))
        .map((f) => readFileSync(join(dir, f))),
    );
  }, 180_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const found = (value: string) => database.includes(Buffer.from(value, 'utf8'));

  it('control: with the codec off the same flows leave the personal data readable in the file', () => {
    expect(database.length).toBeGreaterThan(0);
    for (const value of personalValues(controlCustomer)) expect(found(value), value).toBe(true);
    expect(found(`Failuremarker${controlFailure}`)).toBe(true);
  });

  it('with the codec on, none of the customer’s personal data is in the file', () => {
    for (const value of personalValues(protectedCustomer)) expect(found(value), value).toBe(false);
  });

  it('with the codec on, failure messages and stack traces are encrypted too', () => {
    expect(found(`Failuremarker${protectedFailure}`)).toBe(false);
  });

  it('the workflow id and search attributes carry the reference, never personal data', () => {
    // The reference (the caller's business key) is stored in plain text by design: ids and search
    // attributes are what operators search by, and docs/security.md rules them free of personal data.
    expect(found(protectedCustomer.reference)).toBe(true);
  });
});
