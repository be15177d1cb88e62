import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { ErrorType } from '../../domain/error-types';
import { metrics } from '../../observability/metric-names';

export interface AlertDeps {
  /** Slack-compatible incoming-webhook URL. */
  webhookUrl?: string;
  /** Alertmanager base URL; alerts are posted to `<url>/api/v2/alerts`. */
  alertmanagerUrl?: string;
  http?: AxiosInstance;
  /** Clock of `startsAt` / `endsAt` (tests). */
  now?: () => Date;
}

export interface AlertInput {
  severity: 'warning' | 'critical';
  title: string;
  text: string;
  workflowId: string;
  runId: string;
  webUiUrl?: string;
  failureType?: string;
  /** Alertmanager `alertname` (default `IntegrationRunAlert`); a stable name per kind of alert. */
  alertName?: string;
  /** The run's flow (workflow type), a label for routing in Alertmanager. */
  flow?: string;
}

export type AlertSink = 'slack' | 'alertmanager';

/**
 * An Alertmanager alert stays active this long after it was raised: these alerts are events (a run
 * failed, a run is stuck), not states a source keeps re-sending, so each carries its own end.
 */
export const alertmanagerAlertLifetimeMs = 60 * 60 * 1000;

/** The body of Alertmanager's `POST /api/v2/alerts` for one alert (an array of postable alerts). */
export function alertmanagerBody(input: AlertInput, startsAt: Date) {
  const labels: Record<string, string> = {
    alertname: input.alertName ?? 'IntegrationRunAlert',
    severity: input.severity,
    service: 'integration-coordinator',
    workflow_id: input.workflowId,
    run_id: input.runId,
    ...(input.flow ? { flow: input.flow } : {}),
    ...(input.failureType ? { failure_type: input.failureType } : {}),
  };
  return [
    {
      labels,
      annotations: { summary: input.title, description: input.text },
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + alertmanagerAlertLifetimeMs).toISOString(),
      ...(input.webUiUrl ? { generatorURL: input.webUiUrl } : {}),
    },
  ];
}

function slackBody(input: AlertInput) {
  const link = input.webUiUrl ? ` <${input.webUiUrl}|open in Temporal>` : '';
  return {
    text: `${input.severity === 'critical' ? ':rotating_light:' : ':warning:'} ${input.title}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${input.title}*\n${input.text}${link}` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `workflow \`${input.workflowId}\` run \`${input.runId}\`${input.failureType ? ` · ${input.failureType}` : ''}`,
          },
        ],
      },
    ],
    // Not Slack's, but lets an ops tool correlate without parsing text.
    metadata: {
      workflowId: input.workflowId,
      runId: input.runId,
      severity: input.severity,
      failureType: input.failureType,
    },
  };
}

/**
 * Alerts for operators: a run that failed for good, a notification that gave up, a stuck run. Sent to
 * every configured sink: a Slack-compatible incoming webhook (`text` plus `blocks`, which Slack,
 * Mattermost and most chat tools accept) and/or Alertmanager's v2 API. Without either, alerts go to
 * the worker log. Each sink's outcome is counted in `integration_alerts_total`. Every sink is tried
 * even when another fails; a retry skips the sinks an earlier attempt reached (recorded in its
 * heartbeat details, the first of which the SDK sends at once).
 */
export function createAlertActivities(deps: AlertDeps) {
  const http = deps.http ?? axios.create({ timeout: 10_000, maxRedirects: 0 });
  const now = deps.now ?? (() => new Date());
  const sinks: { sink: AlertSink; url: string; body: (input: AlertInput) => unknown }[] = [
    ...(deps.webhookUrl ? [{ sink: 'slack' as const, url: deps.webhookUrl, body: slackBody }] : []),
    ...(deps.alertmanagerUrl
      ? [
          {
            sink: 'alertmanager' as const,
            url: `${deps.alertmanagerUrl.replace(/\/+$/, '')}/api/v2/alerts`,
            body: (input: AlertInput) => alertmanagerBody(input, now()),
          },
        ]
      : []),
  ];
  const count = (sink: string, outcome: 'sent' | 'failed') =>
    Context.current()
      .metricMeter.createCounter(metrics.alertsSent.name, undefined, metrics.alertsSent.help)
      .add(1, { sink, outcome });

  return {
    async sendAlert(input: AlertInput): Promise<{ sent: boolean; sinks?: AlertSink[] }> {
      if (sinks.length === 0) {
        log.warn(
          `alert (no ALERT_WEBHOOK_URL or ALERTMANAGER_URL configured): [${input.severity}] ${input.title}: ${input.text} (${input.workflowId})`,
        );
        count('log', 'sent');
        return { sent: false };
      }
      const ctx = Context.current();
      const done = new Set<AlertSink>((ctx.info.heartbeatDetails as AlertSink[] | undefined) ?? []);
      // A sink that is down must not keep the alert from the other one.
      const failures: { sink: AlertSink; transient: boolean; message: string }[] = [];
      for (const { sink, url, body } of sinks) {
        if (done.has(sink)) continue;
        try {
          const res = await http.post(url, body(input), { validateStatus: () => true });
          if (res.status >= 200 && res.status < 300) {
            count(sink, 'sent');
            done.add(sink);
            ctx.heartbeat([...done]);
            continue;
          }
          failures.push({
            sink,
            transient: res.status >= 500 || res.status === 429,
            message: `the ${sink} alert sink answered HTTP ${res.status}`,
          });
        } catch (err) {
          failures.push({
            sink,
            transient: true,
            message: `the ${sink} alert sink is unreachable (${(err as { code?: string }).code ?? (err as Error).message})`,
          });
        }
        count(sink, 'failed');
      }
      if (failures.length === 0) return { sent: true, sinks: [...done] };
      const transient = failures.some((f) => f.transient);
      throw ApplicationFailure.create({
        type: transient ? ErrorType.SystemUnavailable : ErrorType.Misconfigured,
        nonRetryable: !transient,
        message: failures.map((f) => f.message).join('; '),
      });
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
