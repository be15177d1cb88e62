import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { describeFailure } from '../lib/failures';

/** Which failed runs: by flow (`IntegrationFlow`), failure type and close-time range (ISO instants). */
export interface FailedRunsFilter {
  flow?: string;
  failureType?: string;
  from?: string;
  to?: string;
}

/** A page token that is damaged or continues another query. */
export class PageTokenError extends Error {
  constructor() {
    super('pageToken does not continue this query');
    this.name = 'PageTokenError';
  }
}

/** A visibility query answers within this or the caller gets an error, never a long retry loop. */
const visibilityDeadlineMs = 5_000;

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Page tokens carry visibility's own token and a digest binding it to the query it continues, so a
 * damaged token or one from another filter is a 400 here instead of an opaque error from the
 * visibility store (the dev server answers a garbage token with an error the client retries).
 */
const digest = (query: string, token: Buffer) =>
  createHash('sha256')
    .update(query)
    .update('\0')
    .update(token)
    .digest()
    .subarray(0, 16)
    .toString('base64url');

function encodePageToken(query: string, token: Buffer): string {
  return `${token.toString('base64url')}.${digest(query, token)}`;
}

function decodePageToken(query: string, pageToken: string): Buffer {
  const [raw = '', check] = pageToken.split('.');
  const token = Buffer.from(raw, 'base64url');
  if (check !== digest(query, token)) {
    throw new PageTokenError();
  }
  return token;
}

export interface FailedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  startTime?: string;
  closeTime?: string;
  failureType: string;
  failureMessage: string;
}

/**
 * One page of this service's failed runs, newest first, from Temporal's visibility store (the failed
 * runs are Temporal's history, not a dead-letter queue): by flow (`IntegrationFlow`) and close-time
 * range in the visibility query, by failure type after reading each run's failure (it is not a search
 * attribute). Paging is visibility's own: `nextPageToken` continues where this page ended; with a
 * failure type a page may hold fewer than `pageSize` runs (even none) and still have a next page.
 */
export async function listFailedRuns(
  client: Client,
  workflowQueue: string,
  q: FailedRunsFilter & { pageSize: number; pageToken?: string },
): Promise<{ runs: FailedRun[]; nextPageToken?: string }> {
  const query = [
    `TaskQueue = ${quote(workflowQueue)}`,
    `ExecutionStatus = 'Failed'`,
    q.flow && `IntegrationFlow = ${quote(q.flow)}`,
    q.from && `CloseTime >= ${quote(new Date(q.from).toISOString())}`,
    q.to && `CloseTime < ${quote(new Date(q.to).toISOString())}`,
  ]
    .filter(Boolean)
    .join(' AND ');
  const page = await client.connection.withDeadline(Date.now() + visibilityDeadlineMs, () =>
    client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize: q.pageSize,
      ...(q.pageToken ? { nextPageToken: decodePageToken(query, q.pageToken) } : {}),
    }),
  );
  const runs: FailedRun[] = [];
  for (const e of page.executions ?? []) {
    const workflowId = e.execution?.workflowId ?? '';
    const runId = e.execution?.runId ?? '';
    // The run's close event, decoded by the client's data converter (failure messages are encrypted).
    const failure = await client.workflow
      .getHandle(workflowId, runId)
      .result()
      .then(
        () => ({ type: 'Error', message: 'the run did not fail' }),
        (err: unknown) => describeFailure(err),
      );
    if (q.failureType && failure.type !== q.failureType) continue;
    runs.push({
      workflowId,
      runId,
      workflowType: e.type?.name ?? '',
      startTime: optionalTsToDate(e.startTime)?.toISOString(),
      closeTime: optionalTsToDate(e.closeTime)?.toISOString(),
      failureType: failure.type,
      failureMessage: failure.message,
    });
  }
  const token = page.nextPageToken?.length
    ? encodePageToken(query, Buffer.from(page.nextPageToken))
    : undefined;
  return { runs, ...(token ? { nextPageToken: token } : {}) };
}
