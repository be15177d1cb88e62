import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/error-types';

/** Salesforce error codes that describe a passing condition: retrying later succeeds. */
const transientCodes = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'REQUEST_RUNNING_TOO_LONG',
  'QUERY_TIMEOUT',
]);

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'ECONNABORTED',
]);

export interface SalesforceErrorShape {
  name?: string;
  errorCode?: string;
  message?: string;
  code?: string;
  data?: unknown;
  cause?: unknown;
}

/** How long to wait when the org's daily API allowance is used up: it is a rolling 24-hour window. */
export const requestLimitRetryDelay = '5 minutes';

/**
 * Turns whatever jsforce threw into an ApplicationFailure with a stable type and the right
 * retryability (DESIGN.md §4). Business rejections are non-retryable and carry Salesforce's code and
 * fields; outages, locks and network errors are retryable; the daily limit waits before retrying.
 */
export function classifySalesforceError(err: unknown, action: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = (err ?? {}) as SalesforceErrorShape;
  const code = e.errorCode ?? e.name ?? 'Error';
  const networkCode = e.code ?? (e.cause as { code?: string } | undefined)?.code;
  const message = `Salesforce ${action} failed: ${code}: ${e.message ?? String(err)}`;
  const fields = (e.data as { fields?: string[] } | undefined)?.fields;
  const details = [{ errorCode: code, ...(fields?.length ? { fields } : {}) }];

  if (code === 'REQUEST_LIMIT_EXCEEDED' || code === 'ERROR_HTTP_429') {
    return ApplicationFailure.create({
      type: ErrorType.RateLimited,
      message,
      details,
      nextRetryDelay: requestLimitRetryDelay,
    });
  }
  if (
    transientCodes.has(code) ||
    /^ERROR_HTTP_5\d\d$/.test(code) ||
    (networkCode && networkCodes.has(networkCode))
  ) {
    return ApplicationFailure.create({ type: ErrorType.SystemUnavailable, message, details });
  }
  if (code === 'INVALID_SESSION_ID') {
    // jsforce refreshes the session and resends on 401; this one survived a refresh, so it is the
    // org's session policy or a revoked app: retry a few times, then the retry budget fails the step.
    return ApplicationFailure.create({ type: ErrorType.SystemUnavailable, message, details });
  }
  if (
    [
      'invalid_grant',
      'invalid_client',
      'invalid_client_id',
      'unsupported_grant_type',
      'inactive_user',
      'inactive_org',
    ].includes(code)
  ) {
    return ApplicationFailure.create({
      type: ErrorType.SalesforceAuthFailed,
      message,
      details,
      nonRetryable: true,
    });
  }
  if (/^[A-Z][A-Z_]+$/.test(code) || /^ERROR_HTTP_4\d\d$/.test(code)) {
    // Any other Salesforce error code is the org rejecting this request: validation, duplicates, fields.
    return ApplicationFailure.create({
      type: ErrorType.SalesforceRejected,
      message,
      details,
      nonRetryable: true,
    });
  }
  // Not a Salesforce answer at all (a client bug or an unexpected runtime error): retry, then surface.
  return ApplicationFailure.create({ type: ErrorType.SystemUnavailable, message, details });
}
