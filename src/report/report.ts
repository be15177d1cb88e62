import type { Client } from '@temporalio/client';
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { z } from 'zod';
import type { Config } from '../config';
import {
  alertActivityOptions,
  compensationRetry,
  salesforceActivityOptions,
  sapActivityOptions,
  syncRetry,
  webhookActivityOptions,
} from '../workflows/shared/policies';
import { coordinatorQueue, taskQueueName } from '../workflows/shared/task-queues';

/**
 * The integration report ("Multi-System Integration Complete"): what is integrated and how, from the
 * configuration and the code's own policies, and how it performed over a window, measured from the
 * runs Temporal recorded (its visibility store and run histories) — nothing written by hand.
 */

export const reportQuery = z
  .object({
    /** A window ending now: 15m, 24h, 7d (at most 31 days). Ignored when `from` is given. */
    window: z
      .string()
      // 1-9999 minutes, 1-744 hours or 1-31 days: the whole rule in the pattern (the OpenAPI document's).
      .regex(
        /^(?:[1-9]\d{0,3}m|(?:[1-9]\d?|[1-6]\d\d|7[0-3]\d|74[0-4])h|(?:[1-9]|[12]\d|3[01])d)$/,
        'a duration such as 15m, 24h or 7d, at most 31 days',
      )
      .default('24h'),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** How many closed runs to read at most (each one's history is read). */
    maxRuns: z.coerce.number().int().min(1).max(5000).default(1000),
    format: z.enum(['json', 'markdown']).default('json'),
  })
  .strict()
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - durationMs(q.window));
    if (from.getTime() >= to.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
    }
    if (to.getTime() - from.getTime() > 31 * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['window'], message: 'at most 31 days' });
    }
    return { from, to, maxRuns: q.maxRuns, format: q.format };
  });

export type ReportQuery = z.infer<typeof reportQuery>;

function durationMs(text: string): number {
  const n = Number(text.slice(0, -1));
  const unit = text.slice(-1);
  return n * (unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000);
}

/** Activities that undo a saga step: a run that scheduled one was compensated. */
export const compensationActivities = ['deleteAccount', 'blockCustomer', 'deleteBillingCustomer'];

/** How each workflow type is triggered. */
const flowCatalog: Record<string, { kind: 'real-time' | 'event-driven' | 'batch'; trigger: string }> = {
  customerCreation: { kind: 'real-time', trigger: 'POST /v1/customers (HTTP API)' },
  connectivityCheck: { kind: 'real-time', trigger: 'POST /v1/connectivity-checks (HTTP API)' },
  accountSync: {
    kind: 'event-driven',
    trigger: 'Salesforce Account change events (POST /webhooks/salesforce)',
  },
  orderSync: {
    kind: 'event-driven',
    trigger:
      'Salesforce Opportunity changes and SAP sales-order events (POST /webhooks/salesforce, /webhooks/sap)',
  },
  inventorySync: { kind: 'event-driven', trigger: 'warehouse stock changes (POST /webhooks/inventory)' },
  notificationDelivery: { kind: 'event-driven', trigger: 'started by entity workflows and redrives' },
};

export interface FlowFigures {
  flow: string;
  runs: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** completed / closed runs. */
  successRate: number | null;
  averageMs: number | null;
  p95Ms: number | null;
  /** Runs that met a retryable failure (a failed or timed-out activity attempt, or a retry). */
  metRetryableFailure: number;
  /** Of those, the ones that still completed. */
  recovered: number;
  errorRecoveryRate: number | null;
  compensations: number;
  /** Failed runs not redriven to completion in the window: held for an operator. */
  quarantined: number;
}

export interface IntegrationReport {
  title: string;
  generatedAt: string;
  window: { from: string; to: string; runsRead: number; truncated: boolean };
  pattern: string;
  systems: { name: string; role: string; apiType: string; auth: string; rateLimitPerSecond?: number }[];
  flows: { name: string; kind: string; trigger: string }[];
  retryPolicies: { scope: string; policy: string }[];
  failedRuns: { strategy: string; redrive: string };
  alertChannels: string[];
  measured: { total: FlowFigures; byFlow: FlowFigures[] };
}

interface RunFacts {
  flow: string;
  workflowId: string;
  status: string;
  durationMs: number;
  closeTime: number;
  metRetryable: boolean;
  compensated: boolean;
}

function describePolicy(
  p: RetryPolicy | undefined,
  timeout?: ActivityOptions['startToCloseTimeout'],
): string {
  if (!p) return 'server default';
  const attempts = p.maximumAttempts ? `${p.maximumAttempts} attempts` : 'unlimited attempts';
  return `${attempts}, backoff ${String(p.initialInterval)} x${p.backoffCoefficient} up to ${String(p.maximumInterval)}${timeout ? `, ${String(timeout)} per attempt` : ''}; business rejections are not retried`;
}

/** The configuration part of the report. */
export function describeIntegration(config: Config) {
  return {
    pattern:
      'Hub-and-spoke orchestration: one coordinator runs every integration as a durable Temporal workflow (sagas with compensation for multi-step writes, one entity workflow per record for event sync); each external system is reached only from its own activity task queue with its own rate limit.',
    systems: [
      {
        name: 'Salesforce',
        role: 'CRM: Accounts, Opportunities; change events in',
        apiType: `REST API v${config.SALESFORCE_API_VERSION} (jsforce)`,
        auth: config.SALESFORCE_USERNAME
          ? 'OAuth 2.0 username-password flow'
          : 'OAuth 2.0 client credentials flow',
        rateLimitPerSecond: config.SALESFORCE_RATE_LIMIT_PER_SECOND,
      },
      {
        name: 'SAP',
        role: 'ERP: customers, sales orders; order events in',
        apiType: 'SOAP RFC (BAPIs, soap client)',
        auth: 'HTTP Basic authentication, stateful session for commit',
        rateLimitPerSecond: config.SAP_RATE_LIMIT_PER_SECOND,
      },
      {
        name: 'Webhook subscribers',
        role: `outbound events to ${config.WEBHOOK_SUBSCRIBERS.map((s) => s.name).join(', ') || 'nobody'}`,
        apiType: 'HTTPS JSON webhooks (axios), Standard Webhooks',
        auth: 'HMAC-SHA256 signature per subscriber secret',
        rateLimitPerSecond: config.WEBHOOK_RATE_LIMIT_PER_SECOND,
      },
      ...(config.BILLING_ENABLED
        ? [
            {
              name: 'Billing',
              role: 'billing customers (a step of customer creation)',
              apiType: 'Stripe-compatible REST API (stripe client)',
              auth: 'secret API key (Bearer)',
              rateLimitPerSecond: config.BILLING_RATE_LIMIT_PER_SECOND,
            },
          ]
        : []),
      {
        name: 'Inventory',
        role: 'warehouse stock levels; stock events in',
        apiType: 'REST/JSON',
        auth: 'Standard Webhooks signature on events',
      },
      {
        name: 'Source webhooks (ingress)',
        role: 'change events from Salesforce, SAP and the warehouse',
        apiType: 'HTTPS JSON, POST /webhooks/<source>',
        auth: 'Standard Webhooks signature per source secret',
      },
    ],
    flows: Object.entries(flowCatalog).map(([name, f]) => ({ name, ...f })),
    retryPolicies: [
      {
        scope: 'Salesforce calls',
        policy: describePolicy(
          salesforceActivityOptions.retry,
          salesforceActivityOptions.startToCloseTimeout,
        ),
      },
      {
        scope: 'SAP calls',
        policy: describePolicy(sapActivityOptions.retry, sapActivityOptions.startToCloseTimeout),
      },
      {
        scope: 'Webhook deliveries',
        policy: describePolicy(webhookActivityOptions.retry, webhookActivityOptions.startToCloseTimeout),
      },
      { scope: 'Compensations (saga undo)', policy: describePolicy(compensationRetry) },
      { scope: 'Entity-workflow (event sync) calls', policy: `${describePolicy(syncRetry)}, for up to 24h` },
      { scope: 'Operator alerts', policy: describePolicy(alertActivityOptions.retry) },
    ],
    failedRuns: {
      strategy:
        'No separate dead-letter queue: a run that fails for good stays in Temporal with its input, history and failure (type and message), findable by flow, status and business key (GET /v1/runs); a saga undoes what it created before failing, and an alert is sent.',
      redrive:
        'POST /v1/runs/{workflowId}/redrive starts a new run with the same id and the original input read from the history; a completed run whose notifications failed redelivers only the failed ones with the same webhook-id.',
    },
    alertChannels: [
      ...(config.ALERT_WEBHOOK_URL ? ['Slack-compatible incoming webhook (ALERT_WEBHOOK_URL)'] : []),
      ...(config.ALERTMANAGER_URL ? ['Alertmanager v2 API (ALERTMANAGER_URL)'] : []),
      ...(config.ALERT_WEBHOOK_URL || config.ALERTMANAGER_URL
        ? []
        : ['worker log only (neither ALERT_WEBHOOK_URL nor ALERTMANAGER_URL set)']),
      'stuck-run detector on the stuck-runs Schedule (one alert per stuck run)',
      'Prometheus alert rules (deploy/prometheus/rules.yml) for Alertmanager',
    ],
  };
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function figures(flow: string, runs: RunFacts[]): FlowFigures {
  const completed = runs.filter((r) => r.status === 'COMPLETED');
  const failed = runs.filter(
    (r) => r.status === 'FAILED' || r.status === 'TIMED_OUT' || r.status === 'TERMINATED',
  );
  const durations = runs.map((r) => r.durationMs).sort((a, b) => a - b);
  const met = runs.filter((r) => r.metRetryable);
  const recovered = met.filter((r) => r.status === 'COMPLETED');
  const quarantined = failed.filter(
    (r) =>
      !runs.some(
        (o) => o.workflowId === r.workflowId && o.status === 'COMPLETED' && o.closeTime > r.closeTime,
      ),
  );
  return {
    flow,
    runs: runs.length,
    completed: completed.length,
    failed: failed.length,
    cancelled: runs.filter((r) => r.status === 'CANCELLED' || r.status === 'CANCELED').length,
    successRate: runs.length ? completed.length / runs.length : null,
    averageMs: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    p95Ms: percentile(durations, 95),
    metRetryableFailure: met.length,
    recovered: recovered.length,
    errorRecoveryRate: met.length ? recovered.length / met.length : null,
    compensations: runs.filter((r) => r.compensated).length,
    quarantined: quarantined.length,
  };
}

/** Reads the runs of this deployment that closed in the window and what their histories show. */
async function collectRuns(
  client: Client,
  taskQueuePrefix: string,
  q: ReportQuery,
): Promise<{ runs: RunFacts[]; truncated: boolean }> {
  const queue = taskQueueName(taskQueuePrefix, coordinatorQueue);
  const query = `TaskQueue = '${queue}' AND CloseTime >= '${q.from.toISOString()}' AND CloseTime <= '${q.to.toISOString()}' AND ExecutionStatus != 'ContinuedAsNew' AND ExecutionStatus != 'Running'`;
  const runs: RunFacts[] = [];
  let truncated = false;
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    if (runs.length >= q.maxRuns) {
      truncated = true;
      break;
    }
    if (!wf.closeTime) continue;
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    let metRetryable = false;
    let compensated = false;
    for (const e of history.events ?? []) {
      const failedAttempt = e.activityTaskFailedEventAttributes?.failure;
      if (failedAttempt && !failedAttempt.applicationFailureInfo?.nonRetryable) metRetryable = true;
      if (e.activityTaskTimedOutEventAttributes) metRetryable = true;
      if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) metRetryable = true;
      const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (scheduled && compensationActivities.includes(scheduled)) compensated = true;
    }
    runs.push({
      flow: wf.type,
      workflowId: wf.workflowId,
      status: wf.status.name,
      durationMs: wf.closeTime.getTime() - wf.startTime.getTime(),
      closeTime: wf.closeTime.getTime(),
      metRetryable,
      compensated,
    });
  }
  return { runs, truncated };
}

export async function buildReport(
  client: Client,
  config: Config,
  q: ReportQuery,
  taskQueuePrefix = config.TASK_QUEUE_PREFIX,
  now: Date = new Date(),
): Promise<IntegrationReport> {
  const { runs, truncated } = await collectRuns(client, taskQueuePrefix, q);
  const flows = [...new Set(runs.map((r) => r.flow))].sort();
  return {
    title: 'Multi-System Integration Complete',
    generatedAt: now.toISOString(),
    window: { from: q.from.toISOString(), to: q.to.toISOString(), runsRead: runs.length, truncated },
    ...describeIntegration(config),
    measured: {
      total: figures('all', runs),
      byFlow: flows.map((f) =>
        figures(
          f,
          runs.filter((r) => r.flow === f),
        ),
      ),
    },
  };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const ms = (v: number | null) =>
  v === null ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;

export function reportMarkdown(r: IntegrationReport): string {
  const lines = [
    `# ${r.title}`,
    '',
    `Generated ${r.generatedAt}; measured over ${r.window.from} .. ${r.window.to} (${r.window.runsRead} closed runs${r.window.truncated ? ', truncated at maxRuns' : ''}).`,
    '',
    '## Integration pattern',
    '',
    r.pattern,
    '',
    '## Systems',
    '',
    '| System | Role | API | Authentication | Rate limit |',
    '|---|---|---|---|---|',
    ...r.systems.map(
      (s) =>
        `| ${s.name} | ${s.role} | ${s.apiType} | ${s.auth} | ${s.rateLimitPerSecond ? `${s.rateLimitPerSecond}/s` : '-'} |`,
    ),
    '',
    '## Flows',
    '',
    '| Flow | Kind | Trigger |',
    '|---|---|---|',
    ...r.flows.map((f) => `| ${f.name} | ${f.kind} | ${f.trigger} |`),
    '',
    '## Retry policy per system',
    '',
    ...r.retryPolicies.map((p) => `- **${p.scope}**: ${p.policy}`),
    '',
    '## Failed runs and redrive',
    '',
    `- ${r.failedRuns.strategy}`,
    `- ${r.failedRuns.redrive}`,
    '',
    '## Alert channels',
    '',
    ...r.alertChannels.map((c) => `- ${c}`),
    '',
    '## Measured',
    '',
    '| Flow | Runs | Success rate | Average | p95 | Error recovery | Compensations | Quarantined |',
    '|---|---|---|---|---|---|---|---|',
    ...[r.measured.total, ...r.measured.byFlow].map(
      (f) =>
        `| ${f.flow} | ${f.runs} | ${pct(f.successRate)} | ${ms(f.averageMs)} | ${ms(f.p95Ms)} | ${pct(f.errorRecoveryRate)} (${f.recovered}/${f.metRetryableFailure}) | ${f.compensations} | ${f.quarantined} |`,
    ),
    '',
    'Success rate: completed over closed runs. Error recovery: runs that met a retryable failure and still completed, over runs that met one. Quarantined: failed runs not redriven to completion within the window (Temporal holds them for an operator).',
    '',
  ];
  return lines.join('\n');
}
