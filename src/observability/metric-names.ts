/**
 * Every business metric the coordinator exports: name, type, unit, labels and meaning, in one place.
 * The worker emits the `worker` ones through Temporal's metric meter (its Prometheus endpoint,
 * METRICS_PORT); the API emits the `api` ones with prom-client on its own `/metrics`. Dashboards,
 * alert rules and docs/observability.md name only metrics listed here (a test checks the dashboard).
 *
 * Conventions (https://prometheus.io/docs/practices/naming/): `integration_` prefix, the unit in the
 * name (`_seconds`), counters end in `_total`, and every label has a bounded set of values — a flow,
 * a system, an operation, a failure type, a subscriber name from configuration — never a record,
 * workflow or run id, and never personal data.
 *
 * This file is imported by workflow code too, so it must stay free of Node and SDK imports.
 */

export type MetricType = 'counter' | 'histogram' | 'gauge';

export interface MetricDefinition {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  /** Which process exports it. */
  source: 'worker' | 'api';
  /** Histogram bucket upper bounds (seconds). */
  buckets?: readonly number[];
}

/** Flow durations: from a fraction of a second to the hours a notification may be retried for. */
const flowBuckets = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400] as const;
/** One call to an external system (one activity attempt). */
const callBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 90] as const;
/** API request handling. */
const httpBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

const m = <T extends MetricDefinition>(d: T) => d;

export const metrics = {
  flowStarted: m({
    name: 'integration_flow_runs_started_total',
    type: 'counter',
    help: 'Business flow runs started (a continue-as-new is not a new start).',
    labels: ['flow'],
    source: 'worker',
  }),
  flowCompleted: m({
    name: 'integration_flow_runs_completed_total',
    type: 'counter',
    help: 'Business flow runs that completed.',
    labels: ['flow'],
    source: 'worker',
  }),
  flowFailed: m({
    name: 'integration_flow_runs_failed_total',
    type: 'counter',
    help: 'Business flow runs that ended FAILED, by the business failure type.',
    labels: ['flow', 'failure_type'],
    source: 'worker',
  }),
  flowCancelled: m({
    name: 'integration_flow_runs_cancelled_total',
    type: 'counter',
    help: 'Business flow runs that ended CANCELED (an operator or caller cancelled them).',
    labels: ['flow'],
    source: 'worker',
  }),
  flowCompensated: m({
    name: 'integration_flow_compensations_total',
    type: 'counter',
    help: 'Saga compensations run; outcome "complete" when every undo succeeded, "incomplete" when one needs an operator.',
    labels: ['flow', 'outcome'],
    source: 'worker',
  }),
  flowDuration: m({
    name: 'integration_flow_duration_seconds',
    type: 'histogram',
    help: 'Time from the start of a run to its end (workflow time), by final outcome.',
    labels: ['flow', 'outcome'],
    source: 'worker',
    buckets: flowBuckets,
  }),
  callDuration: m({
    name: 'integration_external_call_duration_seconds',
    type: 'histogram',
    help: 'Duration of one attempt of a call to an external system (one activity attempt).',
    labels: ['system', 'operation', 'outcome'],
    source: 'worker',
    buckets: callBuckets,
  }),
  callErrors: m({
    name: 'integration_external_call_errors_total',
    type: 'counter',
    help: 'Failed attempts of calls to external systems, by failure type (the ApplicationFailure type or error class).',
    labels: ['system', 'operation', 'failure_type', 'retryable'],
    source: 'worker',
  }),
  callRetries: m({
    name: 'integration_external_call_retries_total',
    type: 'counter',
    help: 'Attempts after the first (Temporal retries) of calls to external systems.',
    labels: ['system', 'operation'],
    source: 'worker',
  }),
  webhookDeliveries: m({
    name: 'integration_webhook_deliveries_total',
    type: 'counter',
    help: 'Final outcome of outbound webhook deliveries per subscriber: "delivered", or "failed" once retries gave up.',
    labels: ['subscriber', 'outcome'],
    source: 'worker',
  }),
  entityEvents: m({
    name: 'integration_entity_events_total',
    type: 'counter',
    help: 'Source events handled by entity workflows, by outcome (applied, duplicate, failed, ...).',
    labels: ['flow', 'outcome'],
    source: 'worker',
  }),
  entityEventsReceived: m({
    name: 'integration_entity_events_received_total',
    type: 'counter',
    help: 'Source events signalled to entity workflows. Minus integration_entity_events_total it is the entity-workflow backlog (recording rule integration:entity_events_pending).',
    labels: ['flow'],
    source: 'worker',
  }),
  alertsSent: m({
    name: 'integration_alerts_total',
    type: 'counter',
    help: 'Operator alerts, by sink (slack, alertmanager, log) and outcome (sent, failed); duplicates the stuck-run detector held back count as sink="all", outcome="suppressed".',
    labels: ['sink', 'outcome'],
    source: 'worker',
  }),
  stuckRuns: m({
    name: 'integration_stuck_runs',
    type: 'gauge',
    help: 'Running flow runs the stuck-run detector found at its last check (activity retrying past the limit, or no progress).',
    labels: ['flow', 'reason'],
    source: 'worker',
  }),
  quotaUsed: m({
    name: 'integration_api_quota_used_ratio',
    type: 'gauge',
    help: "Share of an external system's API allowance used, as the system last reported it to a batch sync (Salesforce: Sforce-Limit-Info, /limits).",
    labels: ['system'],
    source: 'worker',
  }),
  syncLag: m({
    name: 'integration_sync_lag_seconds',
    type: 'gauge',
    help: 'How far a live batch sync is behind its source: seconds since the instant up to which every source change is synced (set by the sync run at each page, while parked, and at its end).',
    labels: ['sync', 'object'],
    source: 'worker',
  }),
  httpRequests: m({
    name: 'integration_api_http_requests_total',
    type: 'counter',
    help: 'HTTP requests answered by the API, by route template and status code.',
    labels: ['method', 'route', 'status_code'],
    source: 'api',
  }),
  httpDuration: m({
    name: 'integration_api_http_request_duration_seconds',
    type: 'histogram',
    help: 'Time the API took to answer, by route template.',
    labels: ['method', 'route'],
    source: 'api',
    buckets: httpBuckets,
  }),
  ingressEvents: m({
    name: 'integration_ingress_requests_total',
    type: 'counter',
    help: 'Source webhooks received, by source and verdict (accepted, 401, 400, 413, 415, error). Duplicates are accepted here and counted by entity workflows (integration_entity_events_total{outcome="duplicate"}).',
    labels: ['source', 'verdict'],
    source: 'api',
  }),
} as const;

export type MetricKey = keyof typeof metrics;

/** Every metric name the coordinator exports, including histogram series suffixes. */
export function exportedSeriesNames(): string[] {
  return Object.values(metrics).flatMap((d) =>
    d.type === 'histogram' ? [`${d.name}_bucket`, `${d.name}_sum`, `${d.name}_count`, d.name] : [d.name],
  );
}
