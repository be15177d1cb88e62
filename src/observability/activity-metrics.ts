import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptors } from '@temporalio/worker';
import { metrics } from './metric-names';
import { traceIdFromHeaders } from './trace-header';

/**
 * Every activity is one call to an external system (Salesforce, SAP, a webhook subscriber, an alert
 * sink, ...), so one activity interceptor measures them all: the duration of each attempt, its failure
 * type, and whether it was a retry. The system is the activity's task queue (`<prefix>.<system>`), the
 * operation its activity type. Emitted through the activity context's metric meter (the worker's
 * Prometheus endpoint). It also puts the run's trace id (when traced) on the activity's log lines.
 */
export function activityMetricsInterceptor(ctx: Context): ActivityInterceptors {
  let traceId: string | undefined;
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      traceId = traceIdFromHeaders(input.headers);
      const info = ctx.info;
      const tags = { system: systemOf(info.taskQueue, info.isLocal), operation: info.activityType };
      const meter = ctx.metricMeter;
      if (info.attempt > 1) {
        meter.createCounter(metrics.callRetries.name, undefined, metrics.callRetries.help).add(1, tags);
      }
      const duration = meter.createHistogram(
        metrics.callDuration.name,
        'float',
        's',
        metrics.callDuration.help,
      );
      const started = performance.now();
      try {
        const result = await next(input);
        duration.record((performance.now() - started) / 1000, { ...tags, outcome: 'success' });
        return result;
      } catch (err) {
        duration.record((performance.now() - started) / 1000, { ...tags, outcome: 'failure' });
        const { type, retryable } = classify(err);
        meter
          .createCounter(metrics.callErrors.name, undefined, metrics.callErrors.help)
          .add(1, { ...tags, failure_type: type, retryable: String(retryable) });
        throw err;
      }
    },
  };
  return {
    inbound,
    outbound: {
      getLogAttributes: (input, next) => next(traceId ? { ...input, traceId } : input),
    },
  };
}

/** `integration.salesforce` -> `salesforce`; local activities run on the workflow queue. */
function systemOf(taskQueue: string, isLocal: boolean): string {
  if (isLocal) return 'local';
  const dot = taskQueue.lastIndexOf('.');
  return dot === -1 ? taskQueue : taskQueue.slice(dot + 1);
}

function classify(err: unknown): { type: string; retryable: boolean } {
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'Error', retryable: !err.nonRetryable };
  if (err instanceof CancelledFailure) return { type: 'Cancelled', retryable: false };
  if (err instanceof Error) return { type: err.constructor.name, retryable: true };
  return { type: 'Error', retryable: true };
}
