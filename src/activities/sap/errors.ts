import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/error-types';

/** One row of a BAPI's RETURN parameter (BAPIRET2, BAPIRET1, BAPIRETURN1 all carry these fields). */
export interface SapMessage {
  type: string;
  id: string;
  number: string;
  message: string;
  variables: string[];
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';

/**
 * RETURN comes as a single structure or as a table of `<item>` rows; node-soap turns an empty table
 * into null and empty fields into null or "". All of those are normalised to a list of messages.
 */
export function returnMessages(ret: unknown): SapMessage[] {
  if (!ret || typeof ret !== 'object') return [];
  const items = 'item' in ret ? ret.item : ret;
  const rows = Array.isArray(items) ? items : items ? [items] : [];
  return rows
    .map((r) => r as Record<string, unknown>)
    .filter((r) => str(r.TYPE).trim() !== '')
    .map((r) => ({
      type: str(r.TYPE).trim(),
      id: str(r.ID).trim(),
      number: str(r.NUMBER).trim(),
      message: str(r.MESSAGE).trim(),
      variables: [r.MESSAGE_V1, r.MESSAGE_V2, r.MESSAGE_V3, r.MESSAGE_V4].map(str).filter(Boolean),
    }));
}

/**
 * BAPIs report business errors in RETURN with HTTP 200, not as SOAP faults: a client that only
 * catches faults silently loses data. Any E (error) or A (abort) row fails the call, non-retryably,
 * with SAP's message class, number and text.
 */
export function assertNoBapiError(operation: string, ret: unknown): SapMessage[] {
  const messages = returnMessages(ret);
  const errors = messages.filter((m) => m.type === 'E' || m.type === 'A');
  if (errors.length) {
    const first = errors[0]!;
    throw ApplicationFailure.create({
      type: ErrorType.SapBusinessError,
      nonRetryable: true,
      message: `SAP ${operation} rejected the request: ${first.message} (message ${first.id} ${first.number}, type ${first.type})`,
      details: [{ operation, messages: errors }],
    });
  }
  return messages;
}

interface SoapErrorShape {
  message?: string;
  code?: string;
  response?: { status?: number; headers?: Record<string, string> };
  root?: {
    Envelope?: { Body?: { Fault?: { faultcode?: string; faultstring?: string | { $value?: string } } } };
  };
}

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Turns what the `soap` client threw into an ApplicationFailure (DESIGN.md §4). */
export function classifySapError(err: unknown, operation: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = (err ?? {}) as SoapErrorShape;
  const status = e.response?.status;
  const fault = e.root?.Envelope?.Body?.Fault;
  const faultString = typeof fault?.faultstring === 'object' ? fault.faultstring.$value : fault?.faultstring;
  const what = `SAP ${operation}`;

  if (status === 401 || status === 403) {
    return ApplicationFailure.create({
      type: ErrorType.SapAuthFailed,
      nonRetryable: true,
      message: `${what}: SAP refused the credentials (HTTP ${status}); check SAP_USERNAME / SAP_PASSWORD and the user's roles`,
      details: [{ operation, status }],
    });
  }
  if (fault && /client/i.test(fault.faultcode ?? '')) {
    // A Client fault is SAP rejecting the request itself (an exception of the function module or a
    // malformed call): sending it again cannot succeed.
    return ApplicationFailure.create({
      type: ErrorType.SapBusinessError,
      nonRetryable: true,
      message: `${what} raised ${faultString ?? 'a SOAP client fault'}`,
      details: [{ operation, status, faultcode: fault.faultcode, faultstring: faultString }],
    });
  }
  if (e.code === 'ECONNABORTED' || /timeout of \d+ms exceeded/.test(e.message ?? '')) {
    return ApplicationFailure.create({
      type: ErrorType.Timeout,
      message: `${what} timed out: ${e.message}`,
      details: [{ operation }],
    });
  }
  if (fault || (status && status >= 500) || (e.code && networkCodes.has(e.code))) {
    return ApplicationFailure.create({
      type: ErrorType.SystemUnavailable,
      message: `${what} failed: ${faultString ?? (status ? `HTTP ${status}` : (e.code ?? e.message))}`,
      details: [{ operation, status, code: e.code }],
    });
  }
  // node-soap rejects non-SOAP answers (an HTML page from a wrong path or a proxy) with a plain object.
  const reason =
    e.message ?? (status ? `HTTP ${status} (not a SOAP answer)` : (faultString ?? JSON.stringify(err)));
  return ApplicationFailure.create({
    type: ErrorType.SystemUnavailable,
    message: `${what} failed: ${reason}`,
    details: [{ operation, status }],
  });
}
