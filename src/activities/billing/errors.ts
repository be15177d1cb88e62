import { ApplicationFailure } from '@temporalio/common';
import Stripe from 'stripe';
import { ErrorType } from '../../domain/error-types';

/** What a Stripe-compatible error carries that the classification looks at. */
interface StripeErrorShape {
  type?: string;
  rawType?: string;
  statusCode?: number;
  code?: string;
  param?: string;
  decline_code?: string;
  message?: string;
  requestId?: string;
  headers?: Record<string, string | undefined>;
}

/** `Retry-After` in seconds (the only form Stripe sends), as a Temporal duration. */
function retryAfter(headers: StripeErrorShape['headers']): string | undefined {
  const raw = headers?.['retry-after'];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return `${Number(raw)}s`;
}

/**
 * Turns whatever the `stripe` client threw into an ApplicationFailure with a stable type:
 * - rate limits (429 `rate_limit`, `lock_timeout`): retryable `RateLimited`, after `Retry-After`;
 * - connection errors and timeouts, `api_error` / 5xx, 409 "key in use": retryable;
 * - card errors (402) and invalid requests (400, 404, idempotency misuse): `BillingRejected`, final;
 * - 401 / 403: `BillingAuthFailed`, final (a wrong or restricted key does not fix itself).
 * Stripe's own type, code, param, decline code and request id travel in the failure's details.
 */
export function classifyBillingError(err: unknown, action: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (!(err instanceof Stripe.errors.StripeError)) {
    const message = `billing ${action} failed: ${(err as Error)?.message ?? String(err)}`;
    return ApplicationFailure.create({ type: ErrorType.SystemUnavailable, message });
  }
  const e = err as StripeErrorShape;
  const status = e.statusCode;
  const details = [
    {
      stripeType: e.rawType ?? e.type,
      ...(status !== undefined ? { status } : {}),
      ...(e.code ? { code: e.code } : {}),
      ...(e.param ? { param: e.param } : {}),
      ...(e.decline_code ? { declineCode: e.decline_code } : {}),
      ...(e.requestId ? { requestId: e.requestId } : {}),
    },
  ];
  const message = `billing ${action} failed: ${status ?? e.type}${e.code ? ` ${e.code}` : ''}: ${e.message ?? ''}`;
  const shouldRetry = e.headers?.['stripe-should-retry'];

  if (err instanceof Stripe.errors.StripeConnectionError) {
    const timedOut = /timeout/i.test(e.message ?? '');
    return ApplicationFailure.create({
      type: timedOut ? ErrorType.Timeout : ErrorType.SystemUnavailable,
      message,
      details,
    });
  }
  if (status === 429 || e.code === 'rate_limit' || e.code === 'lock_timeout') {
    return ApplicationFailure.create({
      type: ErrorType.RateLimited,
      message,
      details,
      nextRetryDelay: retryAfter(e.headers),
    });
  }
  if (status === 401 || status === 403) {
    return ApplicationFailure.create({
      type: ErrorType.BillingAuthFailed,
      message,
      details,
      nonRetryable: true,
    });
  }
  if (shouldRetry === 'true' || status === 409 || (status !== undefined && status >= 500)) {
    return ApplicationFailure.create({
      type: ErrorType.SystemUnavailable,
      message,
      details,
      nextRetryDelay: retryAfter(e.headers),
    });
  }
  if (status !== undefined && status >= 400) {
    // card_error (402), invalid_request_error (400/404), idempotency_error: the request itself is wrong.
    return ApplicationFailure.create({
      type: ErrorType.BillingRejected,
      message,
      details,
      nonRetryable: true,
    });
  }
  return ApplicationFailure.create({ type: ErrorType.SystemUnavailable, message, details });
}
