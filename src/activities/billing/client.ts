import Stripe from 'stripe';

export interface BillingClientConfig {
  /** Base URL of the Stripe-compatible API (`https://api.stripe.com`, or the simulator). */
  apiUrl: string;
  secretKey: string;
  timeoutMs: number;
}

/**
 * The official `stripe` client, pointed at the configured API. Its own retries are off: Temporal's
 * retry policy owns retrying, and every write carries an idempotency key derived from the run, so a
 * retried attempt is replayed by the billing system instead of creating a second customer.
 */
export function createBillingClient(config: BillingClientConfig): Stripe {
  const url = new URL(config.apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.secretKey, {
    host: url.hostname,
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 0,
    timeout: config.timeoutMs,
    appInfo: { name: 'integration-coordinator' },
  });
}

export type BillingClient = Stripe;
