import type { TelemetryOptions } from '@temporalio/worker';
import { metrics } from './metric-names';

/**
 * The worker's Prometheus endpoint: the SDK's own `temporal_*` metrics and the coordinator's business
 * metrics (`integration_*`, src/observability/metric-names.ts) on one `/metrics`. Histograms get the
 * buckets defined beside their names; `service=integration-worker` tells the processes apart.
 */
export function workerMetricsTelemetry(bindAddress: string): NonNullable<TelemetryOptions['metrics']> {
  const histogramBucketOverrides = Object.fromEntries(
    Object.values(metrics)
      .filter((d) => d.source === 'worker' && 'buckets' in d)
      .map((d) => [d.name, [...(d as { buckets: readonly number[] }).buckets]]),
  );
  return {
    prometheus: { bindAddress, histogramBucketOverrides },
    globalTags: { service: 'integration-worker' },
  };
}
