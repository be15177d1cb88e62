import { trace } from '@opentelemetry/api';
import { DefaultLogger } from '@temporalio/worker';
import type { LogEntry, LogLevel } from '@temporalio/worker';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

/**
 * One JSON log format for the API (Fastify's own pino logger) and the worker (the Temporal SDK's
 * logger routed into the same pino logger): one object per line with `level`, `time`, `service`,
 * `msg`, and — in workflow and activity context — `workflowId`, `runId`, and `traceId` / `spanId`
 * when a trace is active.
 *
 * Personal data and secrets never reach the sink. Known fields (names, e-mail, phone, street, tokens,
 * secrets, passwords, authorization headers, request and customer bodies) are replaced by
 * `[redacted]` wherever they appear in a log object, and free text is scrubbed of e-mail addresses
 * and phone numbers. A log line needs no personal data to be useful: the business key and the
 * workflow id find the record.
 */

/** Keys whose values are personal data or secrets, at any depth. */
export const redactedKeys = [
  'firstName',
  'lastName',
  'name',
  'contactName',
  'email',
  'phone',
  'mobile',
  'street',
  'address',
  'customer',
  'password',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  'clientSecret',
  'accessToken',
  'refreshToken',
  'body',
  'data',
] as const;

const redactedSet = new Set<string>(redactedKeys.map((k) => k.toLowerCase()));
const emailPattern = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// International or national phone numbers: + or 0 (or a bracketed trunk 0), then digits in groups.
// A number stands alone: no letter, digit, dot or hyphen right before or after it. Without that,
// hex identifiers (trace and span ids, run ids) whose digits happen to start with 0 lost a piece
// to '[phone]' — about one trace id in 700.
const phonePattern = /(?<![\w.+-])(?:\+|\(?0)[\d ()-]{7,}\d(?![\w-])/g;
const bearerPattern = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const whsecPattern = /whsec_[A-Za-z0-9+/=]+/g;

export function scrubText(text: string): string {
  return text
    .replace(emailPattern, '[email]')
    .replace(phonePattern, '[phone]')
    .replace(bearerPattern, '$1 [redacted]')
    .replace(whsecPattern, 'whsec_[redacted]');
}

/** A copy of `value` with personal and secret fields redacted and free text scrubbed. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrubText(value.message),
      stack: value.stack && scrubText(value.stack),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      redactedSet.has(k.toLowerCase()) && v !== undefined && v !== null ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  /** integration-api or integration-worker. */
  service: string;
  level?: string;
  /** Where lines go (default stdout). Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/** The shared pino logger: JSON lines, redaction, trace ids of the active span. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: (options.level ?? 'info').toLowerCase(),
      base: { service: options.service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      hooks: {
        // Messages are free text: scrub them like any other string.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      mixin() {
        const span = trace.getActiveSpan()?.spanContext();
        return span ? { traceId: span.traceId, spanId: span.spanId } : {};
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK logger (workflow `log`, activity `log`, worker and core messages) writing into
 * `logger`. Workflow and activity entries carry `workflowId`, `runId` (activities: of their workflow)
 * and their type in `meta`; the trace ids come from the OpenTelemetry interceptors' spans.
 */
export function temporalLogger(logger: Logger, level: LogLevel = 'INFO'): DefaultLogger {
  return new DefaultLogger(level, (entry: LogEntry) => {
    const { meta = {} } = entry;
    const flat = { ...meta } as Record<string, unknown>;
    // The worker's own lines about an activity name the run `workflowRunId`: one name everywhere.
    if (flat.runId === undefined && flat.workflowRunId !== undefined) {
      flat.runId = flat.workflowRunId;
      delete flat.workflowRunId;
    }
    // A task token is an opaque capability to complete the activity: not for logs.
    delete flat.taskToken;
    logger[levels[entry.level]](flat, entry.message);
  });
}
