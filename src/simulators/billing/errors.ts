import { randomBytes } from 'node:crypto';

/**
 * Stripe's error object: `{"error": {"type", "code", "message", "param", ...}}` with the HTTP status
 * that goes with it. Written from Stripe's API reference ("Errors"): `type` is one of `api_error`,
 * `card_error`, `idempotency_error`, `invalid_request_error` (and the older `rate_limit_error`,
 * `authentication_error`); `code` is a short machine string (`resource_missing`, `parameter_unknown`,
 * `email_invalid`, `rate_limit`, `lock_timeout`...); `param` names the offending parameter in
 * form-encoded spelling (`address[country]`). The request id travels in the `Request-Id` header; this
 * simulator repeats it in the body as `request_id` so a test reading only the body can correlate too.
 */
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error'
  | 'authentication_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  request_id?: string;
}

/** An answer that is not a success: status, Stripe error object, extra headers. */
export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(error.message);
  }
}

export function invalidRequest(message: string, extra: { code?: string; param?: string } = {}) {
  return new StripeHttpError(400, {
    type: 'invalid_request_error',
    message,
    ...extra,
    ...(extra.code
      ? { doc_url: `https://stripe.com/docs/error-codes/${extra.code.replace(/_/g, '-')}` }
      : {}),
  });
}

export function resourceMissing(kind: string, id: string, param = 'id') {
  return new StripeHttpError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${kind}: '${id}'`,
    doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
  });
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `<prefix>_` followed by `length` random alphanumerics, the shape of Stripe's object and request ids. */
export function stripeId(prefix: string, length = 14): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return `${prefix}_${out}`;
}
