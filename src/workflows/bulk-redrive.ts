import { continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { BulkRedriveActivities } from '../activities/ops/bulk-redrive';
import { failureSummary } from '../lib/failures';
import { getBulkRedriveProgressQuery } from './bulk-redrive.messages';
import type { BulkRedriveInput, BulkRedriveProgress } from './bulk-redrive.messages';
import { activityQueueFor } from './shared/task-queues';

const pageSize = 50;
const maxHistoryEvents = 5_000;

/**
 * Bulk redrive of failed runs: lists them page by page (the same listing as `GET /v1/failed-runs`,
 * bounded by close time at the redrive's start, so runs it restarts that fail again are not picked up
 * again) and redrives each workflow id once, through its flow's own redrive rule, with a durable timer
 * between two redrives so the target systems see at most `ratePerSecond`. A refusal (not redrivable,
 * already running) is counted and the run skipped; progress is a query. Continues as new before its
 * history grows large.
 */
export async function bulkRedrive(input: BulkRedriveInput): Promise<BulkRedriveProgress> {
  const info = workflowInfo();
  const ops = proxyActivities<BulkRedriveActivities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
    taskQueue: activityQueueFor(info.taskQueue, 'ops'),
  });
  const progress: BulkRedriveProgress = input.carry?.progress ?? {
    phase: 'listing',
    found: 0,
    redriven: 0,
    refused: {},
    errors: 0,
    pages: 0,
    recent: [],
    to: input.filter.to ?? new Date().toISOString(),
  };
  const seen = new Set(input.carry?.seen ?? []);
  let pageToken = input.carry?.pageToken;
  setHandler(getBulkRedriveProgressQuery, () => progress);
  const filter = { ...input.filter, to: progress.to };
  const note = (workflowId: string, outcome: string, runId?: string) => {
    progress.recent = [...progress.recent, { workflowId, outcome, ...(runId ? { runId } : {}) }].slice(-20);
  };
  const delayMs = Math.ceil(1000 / input.ratePerSecond);

  for (;;) {
    progress.phase = 'listing';
    const page = await ops.listFailedRunsPage({
      workflowQueue: info.taskQueue,
      filter,
      pageSize,
      ...(pageToken ? { pageToken } : {}),
    });
    progress.pages += 1;
    progress.phase = 'redriving';
    for (const workflowId of page.workflowIds) {
      // A workflow id that failed several times is listed once per run: redriven once.
      if (seen.has(workflowId) || seen.size >= input.maxRuns) continue;
      seen.add(workflowId);
      progress.found += 1;
      if (progress.redriven + progress.errors + Object.keys(progress.refused).length > 0)
        await sleep(delayMs);
      try {
        const r = await ops.redriveFailedRun({ workflowQueue: info.taskQueue, workflowId });
        if (r.outcome === 'redriven') {
          progress.redriven += 1;
          note(workflowId, 'redriven', r.runId);
        } else {
          progress.refused[r.code] = (progress.refused[r.code] ?? 0) + 1;
          note(workflowId, `refused: ${r.code}`);
        }
      } catch (err) {
        progress.errors += 1;
        note(workflowId, `error: ${failureSummary(err).type}`);
      }
    }
    pageToken = page.nextPageToken;
    if (!pageToken || seen.size >= input.maxRuns) break;
    if (workflowInfo().historyLength > maxHistoryEvents || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof bulkRedrive>({ ...input, carry: { pageToken, progress, seen: [...seen] } });
    }
  }
  progress.phase = 'done';
  return progress;
}
