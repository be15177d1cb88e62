import { metricMeter } from '@temporalio/workflow';
import type { MetricTags } from '@temporalio/common';
import { metrics } from './metric-names';
import type { MetricDefinition } from './metric-names';

/**
 * Business metrics emitted from workflow code. They go through the SDK's workflow `metricMeter`, which
 * drops every emission while a workflow replays its history, so a run evicted from the cache and
 * replayed on another worker is not counted twice. Emitting a metric is not a workflow command: adding
 * or moving these calls never changes a history.
 */

function counter(def: MetricDefinition, tags: MetricTags, value = 1): void {
  metricMeter.createCounter(def.name, undefined, def.help).add(value, tags);
}

export function histogram(def: MetricDefinition, value: number, tags: MetricTags): void {
  metricMeter.createHistogram(def.name, 'float', 's', def.help).record(value, tags);
}

export function countFlow(
  key: 'flowStarted' | 'flowCompleted' | 'flowCancelled' | 'flowFailed',
  tags: MetricTags,
): void {
  counter(metrics[key], tags);
}

/** A saga ran its undos; `complete` when every undo succeeded. */
export function countCompensation(flow: string, complete: boolean): void {
  counter(metrics.flowCompensated, { flow, outcome: complete ? 'complete' : 'incomplete' });
}

/** The final outcome of one webhook delivery (after Temporal's retries). */
export function countWebhookDelivery(subscriber: string, outcome: 'delivered' | 'failed'): void {
  counter(metrics.webhookDeliveries, { subscriber, outcome });
}

export function countEntityEventReceived(flow: string): void {
  counter(metrics.entityEventsReceived, { flow });
}

export function countEntityEvent(flow: string, outcome: string): void {
  counter(metrics.entityEvents, { flow, outcome });
}

function gauge(def: MetricDefinition, value: number, tags: MetricTags): void {
  metricMeter.createGauge(def.name, 'float', undefined, def.help).set(value, tags);
}

/** How far a live batch sync is behind its source: seconds since the instant up to which it has synced everything. */
export function setSyncLag(sync: string, object: string, seconds: number): void {
  gauge(metrics.syncLag, Math.max(0, seconds), { sync, object });
}

/** The share of a system's API allowance used, as the system last reported it to a batch sync. */
export function setQuotaUsed(system: string, used: number, limit: number): void {
  if (limit > 0) gauge(metrics.quotaUsed, used / limit, { system });
}

/** Stuck runs of one flow for one reason, as the stuck-run detector found them at its last check. */
export function setStuckRuns(flow: string, reason: string, count: number): void {
  gauge(metrics.stuckRuns, count, { flow, reason });
}

/** An alert the stuck-run detector did not send because it had alerted on that run already. */
export function countSuppressedAlert(): void {
  counter(metrics.alertsSent, { sink: 'all', outcome: 'suppressed' });
}
