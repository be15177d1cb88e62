/**
 * Arm 1 of the flow-cost benchmark: the customer flow as a plain service would run it, without
 * durability. `POST /v1/customers` validates the customer like the API, answers 202 and then makes the
 * same calls as the workflow's happy path, one after the other, in memory: Salesforce lookup and
 * upsert, SAP lookup and create, the SAP number written back to Salesforce, the `customer.created`
 * webhook. It uses the same clients and the same call code as the worker (the activity functions from
 * `buildActivities`, each attempt run in an activity context so they see their attempt number), with a
 * hand-written retry: up to 5 attempts, 200 ms doubling, none for errors marked non-retryable. A crash
 * loses every flow in flight, and there is no undo, no history, no search: that is what durability
 * costs against.
 *
 * Configured like the worker (SALESFORCE_LOGIN_URL, SAP_ENDPOINT, WEBHOOK_SUBSCRIBERS, ...), listens
 * on BENCH_PORT. `GET /__bench/runs` returns (and forgets) the flows finished since the last call.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import Fastify from 'fastify';
import { loadConfigOrExit } from '../../src/config';
import {
  customerSchema,
  toCustomerCreatedEvent,
  toSalesforceAccount,
  toSapCustomerMatch,
} from '../../src/domain/customer';
import type { Customer } from '../../src/domain/customer';
import { buildActivities } from '../../src/workers/dependencies';
import type { createSalesforceActivities } from '../../src/activities/salesforce/activities';
import type { createSapActivities } from '../../src/activities/sap/activities';
import type { createWebhookActivities } from '../../src/activities/webhooks/activities';

interface Finished {
  reference: string;
  receivedAt: number;
  doneAt: number;
  ok: boolean;
  error?: string;
  retries: number;
}

async function withRetry<T>(what: string, fn: () => Promise<T>, stats: { retries: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await new MockActivityEnvironment({ attempt, activityType: what }).run(fn);
    } catch (err) {
      const permanent = err instanceof ApplicationFailure && err.nonRetryable;
      if (permanent || attempt >= 5) throw err;
      stats.retries++;
      await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    }
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const activities = buildActivities(config);
  const sf = activities.salesforce as ReturnType<typeof createSalesforceActivities>;
  const sap = activities.sap as ReturnType<typeof createSapActivities>;
  const hooks = activities.webhooks as ReturnType<typeof createWebhookActivities>;
  let finished: Finished[] = [];
  let inFlight = 0;

  async function createCustomer(customer: Customer, stats: { retries: number }): Promise<void> {
    const reference = customer.reference;
    const existing = await withRetry(
      'findAccountByReference',
      () => sf.findAccountByReference({ reference }),
      stats,
    );
    const account = await withRetry(
      'upsertAccount',
      () => sf.upsertAccount({ reference, fields: toSalesforceAccount(customer) }),
      stats,
    );
    let sapCustomerNumber = existing?.sapCustomerNumber;
    if (!sapCustomerNumber) {
      const match = toSapCustomerMatch(customer);
      const found = await withRetry('findCustomer', () => sap.findCustomer({ match }), stats);
      sapCustomerNumber =
        found.customerNumber ??
        (await withRetry('createCustomer', () => sap.createCustomer({ customer, match }), stats))
          .customerNumber;
    }
    const number = sapCustomerNumber;
    await withRetry(
      'setAccountSapCustomerNumber',
      () => sf.setAccountSapCustomerNumber({ accountId: account.id, sapCustomerNumber: number }),
      stats,
    );
    const event = toCustomerCreatedEvent(customer, {
      salesforceAccountId: account.id,
      sapCustomerNumber: number,
    });
    const occurredAt = new Date().toISOString();
    for (const subscriber of await hooks.listSubscribers({ type: event.type })) {
      await withRetry(
        'deliverWebhook',
        () =>
          hooks.deliverWebhook({
            subscriber,
            sourceKey: `customer:${reference}`,
            type: event.type,
            data: event.data,
            occurredAt,
          }),
        stats,
      );
    }
  }

  const app = Fastify({ logger: false });
  app.post('/v1/customers', async (req, reply) => {
    const parsed = customerSchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid_request' });
    const customer = parsed.data;
    const receivedAt = Date.now();
    inFlight++;
    const stats = { retries: 0 };
    createCustomer(customer, stats)
      .then(
        () =>
          finished.push({
            reference: customer.reference,
            receivedAt,
            doneAt: Date.now(),
            ok: true,
            ...stats,
          }),
        (err: unknown) =>
          finished.push({
            reference: customer.reference,
            receivedAt,
            doneAt: Date.now(),
            ok: false,
            error: (err as Error).message,
            ...stats,
          }),
      )
      .finally(() => inFlight--);
    return reply.code(202).send({ reference: customer.reference });
  });
  app.get('/__bench/runs', async () => {
    const done = finished;
    finished = [];
    return { inFlight, done };
  });
  await app.listen({ host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 0) });
  process.send?.({ type: 'ready' });
  process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error(`no-durability coordinator: ${(err as Error).message}`);
  process.exit(1);
});
