import { ApplicationFailure, ContinueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import type {
  Next,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { metrics } from './metric-names';
import { traceIdFromHeaders } from './trace-header';
import { countFlow, histogram } from './workflow-metrics';

/**
 * Counts every flow run (started, completed, failed by failure type, cancelled) and records its
 * duration, for every workflow type without touching the workflows. Bundled into the workflow code
 * (`workflowInterceptorModules`); emits through the replay-safe workflow metric meter only.
 */
class FlowMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  traceId: string | undefined;

  async execute(
    input: WorkflowExecuteInput,
    next: Next<WorkflowInboundCallsInterceptor, 'execute'>,
  ): Promise<unknown> {
    const info = workflowInfo();
    const flow = info.workflowType;
    this.traceId = traceIdFromHeaders(input.headers);
    // A continue-as-new carries the same business flow on: counted once, when its chain starts.
    if (!info.continuedFromExecutionRunId) countFlow('flowStarted', { flow });
    const seconds = () => Math.max(0, (Date.now() - info.runStartTime.getTime()) / 1000);
    try {
      const result = await next(input);
      countFlow('flowCompleted', { flow });
      histogram(metrics.flowDuration, seconds(), { flow, outcome: 'completed' });
      return result;
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err;
      if (isCancellation(err)) {
        countFlow('flowCancelled', { flow });
        histogram(metrics.flowDuration, seconds(), { flow, outcome: 'cancelled' });
      } else {
        countFlow('flowFailed', { flow, failure_type: failureType(err) });
        histogram(metrics.flowDuration, seconds(), { flow, outcome: 'failed' });
      }
      throw err;
    }
  }
}

/** The business failure type: the ApplicationFailure's type, else the error class (bounded values). */
function failureType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'Error';
  if (err instanceof Error) return err.name;
  return 'Error';
}

/** Workflow log lines name the run's trace (when traced). */
export const interceptors = (): WorkflowInterceptors => {
  const inbound = new FlowMetricsInterceptor();
  const outbound: WorkflowOutboundCallsInterceptor = {
    getLogAttributes: (input, next) => next(inbound.traceId ? { ...input, traceId: inbound.traceId } : input),
  };
  return { inbound: [inbound], outbound: [outbound] };
};
