import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';

/**
 * The trace id carried in a Temporal header by the OpenTelemetry interceptors (`_tracer-data`: a W3C
 * `traceparent` in a JSON payload), so log lines of a workflow or activity name their trace. Safe in
 * workflow code (no Node imports). Undefined when the run is not traced.
 */
export const traceHeader = '_tracer-data';

export function traceIdFromHeaders(headers: Record<string, Payload | undefined>): string | undefined {
  const payload = headers[traceHeader];
  if (!payload) return undefined;
  try {
    const carrier = defaultPayloadConverter.fromPayload<{ traceparent?: string }>(payload);
    const traceId = carrier?.traceparent?.split('-')[1];
    return traceId && /^[0-9a-f]{32}$/.test(traceId) ? traceId : undefined;
  } catch {
    return undefined;
  }
}
