import { ApplicationFailure, TemporalFailure, WorkflowFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { getStepQuery } from '../workflows/common.messages';

export const statusUrl = (workflowId: string) => `/v1/runs/${encodeURIComponent(workflowId)}`;

/** Temporal's own status names (its proto spells CANCELED with one L; the TS SDK says CANCELLED). */
export function normaliseStatus(name: string | undefined): RunStatus {
  if (name === 'CANCELLED') return 'CANCELED';
  return (name ?? 'UNKNOWN') as RunStatus;
}

export type RunStatus =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELED'
  | 'TERMINATED'
  | 'TIMED_OUT'
  | 'CONTINUED_AS_NEW'
  | 'UNKNOWN';

export interface RunView {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: RunStatus;
  step?: string;
  startTime: string;
  closeTime?: string;
  result?: unknown;
  failure?: { type: string; message: string; cause?: string };
  webUiUrl: string;
}

export function webUiUrl(uiBase: string, namespace: string, workflowId: string, runId: string): string {
  return `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}

/** The innermost ApplicationFailure in a failure chain: the business reason a run failed. */
export function describeFailure(err: unknown): { type: string; message: string; cause?: string } {
  let node: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  let app: ApplicationFailure | undefined;
  let last: Error | undefined;
  while (node instanceof Error) {
    if (node instanceof ApplicationFailure) app = node;
    last = node;
    node = node instanceof TemporalFailure || node instanceof Error ? node.cause : undefined;
  }
  if (app) return { type: app.type ?? 'Error', message: app.message };
  return { type: last?.name ?? 'Error', message: last?.message ?? 'the run failed' };
}

export async function describeRun(client: Client, uiBase: string, workflowId: string): Promise<RunView> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const status = normaliseStatus(d.status.name);
  const view: RunView = {
    workflowId,
    runId: d.runId,
    workflowType: d.type,
    status,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    webUiUrl: webUiUrl(uiBase, client.options.namespace, workflowId, d.runId),
  };
  if (status === 'RUNNING') {
    view.step = await handle.query(getStepQuery).catch(() => undefined);
  } else if (status === 'COMPLETED') {
    view.result = await client.workflow.getHandle(workflowId, d.runId).result();
  } else if (status === 'FAILED' || status === 'TIMED_OUT') {
    try {
      await client.workflow.getHandle(workflowId, d.runId).result();
    } catch (err) {
      view.failure = describeFailure(err);
    }
  }
  return view;
}
