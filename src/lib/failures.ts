import { ActivityFailure, ApplicationFailure, TemporalFailure, TimeoutFailure } from '@temporalio/common';

/**
 * Failure summaries, for workflows (a step that failed) and for the API (a run that failed). Pure:
 * safe in the workflow sandbox.
 */

/** The business-level type and message of a failure chain (ActivityFailure -> ApplicationFailure). */
export function failureSummary(err: unknown): { type: string; message: string } {
  let node: unknown = err;
  while (node instanceof ActivityFailure) node = node.cause;
  if (node instanceof ApplicationFailure) return { type: node.type ?? 'Error', message: node.message };
  if (node instanceof TimeoutFailure)
    return { type: 'Timeout', message: `the step timed out (${node.timeoutType})` };
  if (node instanceof Error) return { type: node.name, message: node.message };
  return { type: 'Error', message: String(err) };
}

/** The innermost ApplicationFailure in a failure chain: the business reason a run failed. */
export function describeFailure(err: unknown): { type: string; message: string; cause?: string } {
  // A client's WorkflowFailedError wraps the run's failure (matched by name: no client import here).
  let node: unknown = err instanceof Error && err.name === 'WorkflowFailedError' ? err.cause : err;
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
