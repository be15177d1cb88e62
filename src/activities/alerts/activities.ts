import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { ErrorType } from '../../domain/error-types';

export interface AlertDeps {
  /** Slack-compatible incoming-webhook URL; without one, alerts only go to the worker log. */
  webhookUrl?: string;
  http?: AxiosInstance;
}

export interface AlertInput {
  severity: 'warning' | 'critical';
  title: string;
  text: string;
  workflowId: string;
  runId: string;
  webUiUrl?: string;
  failureType?: string;
}

/**
 * Alerts for operators: a run that failed for good, or a notification that gave up. Posts
 * Slack-compatible JSON (`text` plus `blocks`), which Slack, Mattermost and most chat tools accept.
 */
export function createAlertActivities(deps: AlertDeps) {
  const http = deps.http ?? axios.create({ timeout: 10_000, maxRedirects: 0 });
  return {
    async sendAlert(input: AlertInput): Promise<{ sent: boolean }> {
      const line = `[${input.severity}] ${input.title}: ${input.text} (${input.workflowId})`;
      if (!deps.webhookUrl) {
        log.warn(`alert (no ALERT_WEBHOOK_URL configured): ${line}`);
        return { sent: false };
      }
      const link = input.webUiUrl ? ` <${input.webUiUrl}|open in Temporal>` : '';
      const res = await http.post(
        deps.webhookUrl,
        {
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
        },
        { validateStatus: () => true },
      );
      if (res.status >= 200 && res.status < 300) return { sent: true };
      throw ApplicationFailure.create({
        type: res.status >= 500 || res.status === 429 ? ErrorType.SystemUnavailable : ErrorType.Misconfigured,
        nonRetryable: !(res.status >= 500 || res.status === 429),
        message: `the alert webhook answered HTTP ${res.status}`,
      });
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
