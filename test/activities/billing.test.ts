import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBillingActivities } from '../../src/activities/billing/activities';
import type { BillingActivities } from '../../src/activities/billing/activities';
import { createBillingClient } from '../../src/activities/billing/client';
import { toBillingCustomer } from '../../src/domain/billing';
import { customerSchema } from '../../src/domain/customer';
import { ErrorType } from '../../src/domain/error-types';
import { createBillingSimulator, DEV_BILLING_SECRET_KEY } from '../../src/simulators/billing';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { failureOf, runInActivity } from '../support/activity';

/**
 * The billing activities with the official `stripe` client against the billing simulator; only the
 * Temporal activity context (attempt number) is the test's.
 */
const sim = createBillingSimulator();
let running: RunningSimulator;
let billing: BillingActivities;

function activitiesWith(overrides: { secretKey?: string; timeoutMs?: number } = {}): BillingActivities {
  return createBillingActivities({
    client: createBillingClient({
      apiUrl: running.url,
      secretKey: overrides.secretKey ?? DEV_BILLING_SECRET_KEY,
      timeoutMs: overrides.timeoutMs ?? 5_000,
    }),
  });
}

function paramsFor(label: string) {
  const reference = `${label}-${randomUUID().slice(0, 8)}`;
  const customer = customerSchema.parse({
    reference,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: '+44 20 7946 0958',
    company: 'Analytical Engines Ltd',
    address: { street: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  });
  return {
    reference,
    params: toBillingCustomer(customer, {
      salesforceAccountId: '001000000000001AAA',
      sapCustomerNumber: '0000100042',
    }),
  };
}

const byReference = (reference: string) => sim.customers({ metadata: { integration_reference: reference } });

beforeAll(async () => {
  running = await sim.start({ port: 0 });
  billing = activitiesWith();
});
afterAll(async () => {
  await running?.stop();
});

describe('billing activities against the billing simulator', () => {
  it('creates the customer with the mapped fields and links, and a retry with the same key returns the same customer', async () => {
    const { reference, params } = paramsFor('create');
    const key = `customer-creation:${reference}/run-1/billing-customer`;
    const first = await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: key }),
    );
    expect(first).toEqual({ customerId: expect.stringMatching(/^cus_/), recoveredFromEarlierAttempt: false });
    expect(sim.customer(first.customerId)).toMatchObject({
      name: 'Analytical Engines Ltd',
      email: 'ada@example.com',
      phone: '+442079460958',
      address: { line1: "12 St James's Square", city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
      preferred_locales: ['en'],
      metadata: {
        integration_reference: reference,
        salesforce_account_id: '001000000000001AAA',
        sap_customer_number: '0000100042',
      },
    });

    // The same attempt number again (a redelivered task): the key replays the saved answer.
    const again = await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: key }),
    );
    expect(again).toEqual({ customerId: first.customerId, recoveredFromEarlierAttempt: true });
    expect(byReference(reference)).toHaveLength(1);
  });

  it('a retry finds a customer an earlier attempt created by its reference (check-before-create), even under another key', async () => {
    const { reference, params } = paramsFor('recover');
    const earlier = await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/forgotten-key` }),
    );
    const retried = await runInActivity(2, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/new-key` }),
    );
    expect(retried).toEqual({ customerId: earlier.customerId, recoveredFromEarlierAttempt: true });
    expect(byReference(reference)).toHaveLength(1);
    expect(await runInActivity(1, () => billing.findBillingCustomer({ reference }))).toEqual({
      customerId: earlier.customerId,
      candidates: [earlier.customerId],
    });
  });

  it('a rate limit is retryable after the Retry-After the billing system sent', async () => {
    const { reference, params } = paramsFor('throttled');
    sim.core.faults.failNext('rate-limit', 1, { operation: 'createCustomer' }, { retryAfterSeconds: 7 });
    const failure = await failureOf(
      runInActivity(1, () =>
        billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/k` }),
      ),
    );
    expect(failure).toMatchObject({ type: ErrorType.RateLimited, nonRetryable: false, nextRetryDelay: '7s' });
    expect(failure.details?.[0]).toMatchObject({
      status: 429,
      code: 'rate_limit',
      requestId: expect.stringMatching(/^req_/),
    });
    expect(byReference(reference)).toHaveLength(0);
  });

  it('5xx, outages and client timeouts are retryable; a lock timeout is a rate limit', async () => {
    const { reference, params } = paramsFor('transient');
    const create = (client = billing) =>
      failureOf(
        runInActivity(1, () =>
          client.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/${randomUUID()}` }),
        ),
      );

    sim.core.faults.failNext('api-error', 1, { operation: 'createCustomer' });
    expect(await create()).toMatchObject({ type: ErrorType.SystemUnavailable, nonRetryable: false });
    sim.core.faults.failNext(
      'service-unavailable',
      1,
      { operation: 'createCustomer' },
      { retryAfterSeconds: 4 },
    );
    expect(await create()).toMatchObject({
      type: ErrorType.SystemUnavailable,
      nonRetryable: false,
      nextRetryDelay: '4s',
    });
    sim.core.faults.failNext('lock-timeout', 1, { operation: 'createCustomer' });
    expect(await create()).toMatchObject({ type: ErrorType.RateLimited, nonRetryable: false });

    sim.core.faults.setOutage(true);
    try {
      expect(await create()).toMatchObject({ type: ErrorType.SystemUnavailable, nonRetryable: false });
    } finally {
      sim.core.faults.setOutage(false);
    }
    sim.core.faults.failNext('timeout', 1, { operation: 'createCustomer' }, { delayMs: 500 });
    expect(await create(activitiesWith({ timeoutMs: 150 }))).toMatchObject({
      type: ErrorType.Timeout,
      nonRetryable: false,
    });
  });

  it('card errors, invalid requests and a wrong key are final, with Stripe’s code and parameter in the details', async () => {
    const { reference, params } = paramsFor('rejected');
    sim.core.faults.failNext('card-declined', 1, { operation: 'createCustomer' });
    const declined = await failureOf(
      runInActivity(1, () =>
        billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/1` }),
      ),
    );
    expect(declined).toMatchObject({ type: ErrorType.BillingRejected, nonRetryable: true });
    expect(declined.details?.[0]).toMatchObject({
      stripeType: 'card_error',
      status: 402,
      code: 'card_declined',
      declineCode: 'generic_decline',
    });

    const invalid = await failureOf(
      runInActivity(1, () =>
        billing.createBillingCustomer({
          customer: { ...params, email: 'not-an-email' },
          idempotencyKey: `${reference}/2`,
        }),
      ),
    );
    expect(invalid).toMatchObject({ type: ErrorType.BillingRejected, nonRetryable: true });
    expect(invalid.message).toContain('email_invalid');
    expect(invalid.details?.[0]).toMatchObject({
      stripeType: 'invalid_request_error',
      status: 400,
      param: 'email',
    });

    // The same key with other parameters is a programming error: final, never retried into a duplicate.
    await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/3` }),
    );
    const misuse = await failureOf(
      runInActivity(1, () =>
        billing.createBillingCustomer({
          customer: { ...params, name: 'Other' },
          idempotencyKey: `${reference}/3`,
        }),
      ),
    );
    expect(misuse).toMatchObject({ type: ErrorType.BillingRejected, nonRetryable: true });
    expect(misuse.details?.[0]).toMatchObject({ stripeType: 'idempotency_error' });

    const wrongKey = await failureOf(
      runInActivity(1, () =>
        activitiesWith({ secretKey: 'sk_test_wrong-key-0000' }).findBillingCustomer({ reference }),
      ),
    );
    expect(wrongKey).toMatchObject({ type: ErrorType.BillingAuthFailed, nonRetryable: true });
  });

  it('delete removes the customer, by id or by reference, and treats an already deleted one as deleted', async () => {
    const { reference, params } = paramsFor('delete');
    const { customerId } = await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/c` }),
    );
    expect(await runInActivity(1, () => billing.deleteBillingCustomer({ customerId, reference }))).toEqual({
      deleted: true,
      customerId,
    });
    expect(sim.customer(customerId)).toMatchObject({ deleted: true });
    // A retried undo whose first answer was lost: Stripe answers 404, the retrieve shows it deleted.
    expect(await runInActivity(2, () => billing.deleteBillingCustomer({ customerId, reference }))).toEqual({
      deleted: true,
      customerId,
    });

    // Without an id (the create's answer was lost) it is found by reference; nothing found, nothing deleted.
    const other = paramsFor('delete-by-ref');
    const created = await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: other.params, idempotencyKey: `${other.reference}/c` }),
    );
    expect(
      await runInActivity(1, () => billing.deleteBillingCustomer({ reference: other.reference })),
    ).toEqual({
      deleted: true,
      customerId: created.customerId,
    });
    expect(
      await runInActivity(1, () => billing.deleteBillingCustomer({ reference: other.reference })),
    ).toEqual({
      deleted: false,
    });
    expect(
      await runInActivity(1, () =>
        billing.deleteBillingCustomer({ customerId: 'cus_neverexisted00', reference }),
      ),
    ).toEqual({ deleted: false, customerId: 'cus_neverexisted00' });
  });

  it('an undo without an id refuses to guess between several customers with the same reference', async () => {
    const { reference, params } = paramsFor('conflict');
    await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/a` }),
    );
    await runInActivity(1, () =>
      billing.createBillingCustomer({ customer: params, idempotencyKey: `${reference}/b` }),
    );
    const conflict = await failureOf(runInActivity(1, () => billing.deleteBillingCustomer({ reference })));
    expect(conflict).toMatchObject({ type: ErrorType.BillingCustomerConflict, nonRetryable: true });
    expect(byReference(reference).filter((c) => !c.deleted)).toHaveLength(2);
  });
});
