import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { describeFailure } from '../lib/failures';
import { temporalRunUrl } from '../lib/links';
import { getStepQuery } from '../workflows/shared/step.messages';
import { serviceWorkflowTypes } from '../workflows/workflow-types';
import { HttpError } from './errors';

export { describeFailure } from '../lib/failures';
export { temporalRunUrl as webUiUrl } from '../lib/links';

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

/**
 * Describes a run of THIS service: one of its workflow types on its own coordinator task queue. Any other
 * workflow of the namespace (another application's, or another deployment's with another queue prefix)
 * answers 404 exactly like a missing one, so the API neither reads, cancels nor redrives it, nor tells
 * that it exists.
 */
export async function describeOwnRun(
  client: Client,
  workflowQueue: string,
  workflowId: string,
): Promise<WorkflowExecutionDescription> {
  const d = await client.workflow.getHandle(workflowId).describe();
  if (d.taskQueue !== workflowQueue || !serviceWorkflowTypes.includes(d.type)) {
    throw new HttpError(404, 'not_found', 'no run with this id');
  }
  return d;
}

export async function describeRun(
  client: Client,
  uiBase: string,
  workflowQueue: string,
  workflowId: string,
): Promise<RunView> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await describeOwnRun(client, workflowQueue, workflowId);
  const status = normaliseStatus(d.status.name);
  const view: RunView = {
    workflowId,
    runId: d.runId,
    workflowType: d.type,
    status,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    webUiUrl: temporalRunUrl(uiBase, client.options.namespace, workflowId, d.runId),
  };
  if (status === 'RUNNING') {
    // A run whose worker is down cannot answer; its status is still worth returning, without the step.
    view.step = await client.connection
      .withDeadline(Date.now() + 3_000, () => handle.query(getStepQuery))
      .catch(() => undefined);
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
