import { Context } from '@temporalio/activity';

/** The latest details each running activity sent, so a keep-alive beat repeats them instead of erasing them. */
const latestDetails = new WeakMap<Context, unknown>();

/**
 * Heartbeats with progress details. Every heartbeat of the project's activities goes through here:
 * the keep-alive below repeats the latest details, and Temporal keeps only the last ones sent.
 */
export function heartbeat(details?: unknown): void {
  const ctx = Context.current();
  latestDetails.set(ctx, details);
  ctx.heartbeat(details);
}

/**
 * Runs `work` and, when the activity was scheduled with a heartbeat timeout, heartbeats while it runs.
 * The timeout is how the server notices a worker that died mid-call (kill -9, a lost machine, a
 * shutdown whose report never arrived): without it a lost attempt is retried only after the whole
 * start-to-close timeout (90 s for SAP). Calls shorter than a third of the timeout send no heartbeat
 * at all. Local activities cannot heartbeat and are left alone.
 */
export async function keepingAlive<T>(ctx: Context, work: () => Promise<T>): Promise<T> {
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  if (ctx.info.isLocal || !timeoutMs) return work();
  const timer = setInterval(
    () => ctx.heartbeat(latestDetails.get(ctx)),
    Math.max(100, Math.floor(timeoutMs / 3)),
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
