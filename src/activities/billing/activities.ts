import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import Stripe from 'stripe';
import { billingReferenceKey } from '../../domain/billing';
import type { BillingCustomerParams } from '../../domain/billing';
import { ErrorType } from '../../domain/error-types';
import type { BillingClient } from './client';
import { classifyBillingError } from './errors';

export interface BillingDeps {
  client: BillingClient;
}

/** A search-query string literal: quotes and backslashes escaped. */
function queryString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function classified<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyBillingError(err, action);
  }
}

/**
 * Billing activities over the official `stripe` client. A create carries an Idempotency-Key the
 * workflow derives from its run, so any retry of it is answered with the first attempt's result; on
 * a retry the customer is also looked up by its reference in metadata first (check-before-create),
 * which covers a key the billing system has already forgotten (Stripe keeps them 24 hours).
 */
export function createBillingActivities({ client }: BillingDeps) {
  /** Live customers whose metadata carries this reference. */
  async function findBillingCustomer(input: {
    reference: string;
  }): Promise<{ customerId?: string; candidates: string[] }> {
    return classified('customer search', async () => {
      const page = await client.customers.search({
        query: `metadata['${billingReferenceKey}']:${queryString(input.reference)}`,
        limit: 10,
      });
      const candidates = page.data.map((c) => c.id);
      return { customerId: candidates[0], candidates };
    });
  }

  return {
    findBillingCustomer,

    async createBillingCustomer(input: {
      customer: BillingCustomerParams;
      idempotencyKey: string;
    }): Promise<{ customerId: string; recoveredFromEarlierAttempt: boolean }> {
      const reference = input.customer.metadata[billingReferenceKey];
      if (reference === undefined) {
        throw ApplicationFailure.create({
          type: ErrorType.InvalidInput,
          nonRetryable: true,
          message: `a billing customer needs metadata.${billingReferenceKey}`,
        });
      }
      if (activityInfo().attempt > 1) {
        const earlier = await findBillingCustomer({ reference });
        if (earlier.customerId) return { customerId: earlier.customerId, recoveredFromEarlierAttempt: true };
      }
      return classified('customer create', async () => {
        const created = await client.customers.create(input.customer, {
          idempotencyKey: input.idempotencyKey,
        });
        return {
          customerId: created.id,
          recoveredFromEarlierAttempt: created.lastResponse.headers['idempotent-replayed'] === 'true',
        };
      });
    },

    /**
     * Compensation: deletes the billing customer this run created. Without an id (the create's answer
     * was lost) it is found by its reference; several matches are left to an operator. A customer
     * already deleted (an earlier attempt's answer was lost) counts as deleted.
     */
    async deleteBillingCustomer(input: {
      customerId?: string;
      reference: string;
    }): Promise<{ deleted: boolean; customerId?: string }> {
      let customerId = input.customerId;
      if (!customerId) {
        const found = await findBillingCustomer({ reference: input.reference });
        if (found.candidates.length > 1) {
          throw ApplicationFailure.create({
            type: ErrorType.BillingCustomerConflict,
            nonRetryable: true,
            message: `several billing customers carry reference ${input.reference} (${found.candidates.join(', ')}); an operator must decide which one this run created`,
            details: [{ candidates: found.candidates }],
          });
        }
        customerId = found.customerId;
      }
      if (!customerId) return { deleted: false };
      const id = customerId;
      return classified('customer delete', async () => {
        try {
          await client.customers.del(id);
          return { deleted: true, customerId: id };
        } catch (err) {
          if (!(err instanceof Stripe.errors.StripeInvalidRequestError) || err.code !== 'resource_missing')
            throw err;
          // Stripe still answers a retrieve of a deleted customer (`deleted: true`): gone already.
          const current = await client.customers.retrieve(id).catch((e: unknown) => {
            if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === 'resource_missing')
              return undefined;
            throw e;
          });
          return { deleted: current?.deleted === true, customerId: id };
        }
      });
    },
  };
}

export type BillingActivities = ReturnType<typeof createBillingActivities>;

/**
 * Whether this deployment bills: a configuration-only lookup the customer workflow makes as a local
 * activity (recorded in its history, so a replay takes the same path whatever the configuration).
 */
export function createBillingLocalActivities({ enabled }: { enabled: boolean }) {
  return {
    async billingConfigured(_input: Record<string, never>): Promise<{ configured: boolean }> {
      return { configured: enabled };
    },
  };
}

export type BillingLocalActivities = ReturnType<typeof createBillingLocalActivities>;
