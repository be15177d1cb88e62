import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerSchema } from '../../src/domain/customer';
import type { Customer } from '../../src/domain/customer';
import { createBillingSimulator } from '../../src/simulators/billing';
import type { BillingSimulator } from '../../src/simulators/billing';
import type { RunningSimulator } from '../../src/simulators/common/server';
import type { customerCreation } from '../../src/workflows/customer-creation';
import { customerCreationStartOptions } from '../../src/workflows/customer-creation.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/**
 * The customer saga with billing configured: the real workers and activities (the official `stripe`
 * client among them) against the Salesforce, SAP, webhook and billing simulators, on the real
 * Temporal dev server.
 */
describe('customerCreation with billing configured', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let billing: BillingSimulator;
  let billingRun: RunningSimulator;

  beforeAll(async () => {
    t = await connectTemporal();
    billing = createBillingSimulator();
    billingRun = await billing.start({ port: 0 });
    env = await startIntegrationEnvironment(t, {
      BILLING_ENABLED: 'true',
      BILLING_API_URL: billingRun.url,
      BILLING_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await env?.stop();
    await billingRun?.stop();
    await t?.close();
  });

  /** A customer no other test matches: the unique part is in the reference and the company name. */
  function newCustomer(label: string, country = 'GB'): Customer {
    const reference = uniquePrefix(label);
    return customerSchema.parse({
      reference,
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@example.com',
      company: `Billing ${reference.slice(-8)}`,
      address: { street: '1 Harbour Road', city: 'London', postalCode: 'E14 5AB', country },
    });
  }

  async function withWorkersFor<T>(label: string, body: (prefix: string) => Promise<T>): Promise<T> {
    const prefix = uniquePrefix(label);
    const workers = await env.startWorkers(prefix);
    try {
      return await body(prefix);
    } finally {
      await workers.stop();
    }
  }

  const start = (prefix: string, customer: Customer) =>
    t.client.workflow.start<typeof customerCreation>('customerCreation', {
      ...customerCreationStartOptions(customer, taskQueueName(prefix, coordinatorQueue)),
      args: [{ customer }],
    });
  const billingCustomersOf = (reference: string) =>
    billing.customers({ metadata: { integration_reference: reference } });
  const failureOf = async (promise: Promise<unknown>) => {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const failure = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    return failure;
  };

  it('creates the billing customer after SAP, linked to both, and customer.created carries its id', () =>
    withWorkersFor('billing-happy', async (prefix) => {
      const customer = newCustomer('billing-happy');
      const handle = await start(prefix, customer);
      const result = await handle.result();

      expect(result).toMatchObject({
        billingCustomerId: expect.stringMatching(/^cus_/),
        billingCustomerCreated: true,
        salesforceAccountCreated: true,
        sapCustomerCreated: true,
        notification: { status: 'delivered' },
      });
      const [billed, ...more] = billingCustomersOf(customer.reference);
      expect(more).toHaveLength(0);
      expect(billed).toMatchObject({
        id: result.billingCustomerId,
        name: customer.company,
        email: 'grace@example.com',
        metadata: {
          integration_reference: customer.reference,
          salesforce_account_id: result.salesforceId,
          sap_customer_number: result.sapCustomerNumber,
        },
      });
      // The create carried the run's idempotency key.
      expect(billing.idempotencyKeys().map((k) => k.key)).toContain(
        `${handle.workflowId}/${(await handle.describe()).runId}/billing-customer`,
      );

      const delivery = await env.webhooks.waitFor(
        (d) => d.type === 'customer.created' && (d.body as any)?.data?.reference === customer.reference,
      );
      expect(JSON.parse(delivery.rawBody)).toMatchObject({
        data: {
          billingCustomerId: result.billingCustomerId,
          salesforceAccountId: result.salesforceId,
          sapCustomerNumber: result.sapCustomerNumber,
        },
      });
      const history = await handle.fetchHistory();
      const steps = history
        .events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter(Boolean);
      expect(steps.indexOf('createBillingCustomer')).toBeGreaterThan(steps.indexOf('createCustomer'));
      expect(steps.indexOf('createBillingCustomer')).toBeLessThan(
        steps.indexOf('setAccountSapCustomerNumber'),
      );
    }));

  it('rides out a billing rate limit after its Retry-After, with one billing customer', () =>
    withWorkersFor('billing-429', async (prefix) => {
      const customer = newCustomer('billing-429');
      billing.core.faults.failNext(
        'rate-limit',
        1,
        { operation: 'createCustomer' },
        { retryAfterSeconds: 1 },
      );
      const result = await (await start(prefix, customer)).result();
      expect(result.billingCustomerId).toMatch(/^cus_/);
      expect(billingCustomersOf(customer.reference)).toHaveLength(1);
      expect(
        billing.core.requests.list({ operation: 'createCustomer' }).filter((r) => r.fault === 'rate-limit'),
      ).toHaveLength(1);
    }));

  it('when billing rejects the customer, the SAP customer and the Account this run created are undone', () =>
    withWorkersFor('billing-rejects', async (prefix) => {
      const customer = newCustomer('billing-rejects');
      billing.core.faults.addRule({
        kind: 'card-declined',
        match: { operation: 'createCustomer' },
        remaining: 1,
      });
      const handle = await start(prefix, customer);
      const failure = await failureOf(handle.result());

      expect(failure.type).toBe('BillingRejected');
      expect(failure.message).toMatch(/was not created: billing customer create failed: 402 card_declined/);
      expect(failure.cause).toBeInstanceOf(ActivityFailure);
      const cause = (failure.cause as ActivityFailure).cause as ApplicationFailure;
      expect(cause).toMatchObject({ type: 'BillingRejected', nonRetryable: true });
      expect(cause.details?.[0]).toMatchObject({ stripeType: 'card_error', code: 'card_declined' });
      expect(failure.details?.[0]).toMatchObject({
        failedStep: 'billing-customer',
        undone: ['flag the SAP customer for deletion', 'delete the Salesforce Account'],
        notUndone: [],
      });

      expect(billingCustomersOf(customer.reference)).toHaveLength(0);
      expect(
        env.salesforce.records('Account').filter((a) => a.Integration_Id__c === customer.reference),
      ).toHaveLength(0);
      const sap = env.sap.customers().filter((c) => c.NAME1 === customer.company);
      expect(sap).toHaveLength(1);
      expect(sap[0]).toMatchObject({ LOEVM: 'X', AUFSD: '01' });
    }));

  it('when the write-back fails for good after billing, the billing customer this run created is deleted', () =>
    withWorkersFor('billing-later', async (prefix) => {
      const customer = newCustomer('billing-later');
      // The first write-back attempt meets an outage; before the retry, someone deletes the Account
      // in Salesforce, so the retry is rejected for good (the record is gone).
      env.salesforce.core.faults.failNext('server-unavailable', 1, { operation: 'update' });
      const handle = await start(prefix, customer);
      await waitFor('the failed first write-back', () =>
        env.salesforce.core.requests
          .list({ operation: 'update' })
          .some((r) => r.fault === 'server-unavailable'),
      );
      const [account] = env.salesforce
        .records('Account')
        .filter((a) => a.Integration_Id__c === customer.reference);
      env.salesforce.uiDelete('Account', account!.Id as string);

      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('SalesforceRejected');
      expect(failure.details?.[0]).toMatchObject({
        failedStep: 'salesforce-writeback',
        billingCustomerId: expect.stringMatching(/^cus_/),
      });
      expect((failure.details?.[0] as { undone: string[] }).undone).toEqual(
        expect.arrayContaining(['delete the billing customer', 'flag the SAP customer for deletion']),
      );
      const billed = billingCustomersOf(customer.reference);
      expect(billed).toHaveLength(1);
      expect(billed[0]).toMatchObject({ deleted: true });
      expect(billing.core.requests.list({ operation: 'deleteCustomer' }).map((r) => r.status)).toContain(200);
    }));
});
