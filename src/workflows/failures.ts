import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';

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
