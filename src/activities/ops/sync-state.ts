import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/error-types';
import type { QuarantinedRecord, SyncCursor } from '../../domain/batch-sync';
import type { CommitPageInput, SyncRunSummary, SyncStateData } from '../../workflows/batch-sync.messages';

/**
 * The batch sync's access to its durable state: the `syncState` workflow of the sync (started on first
 * use), queried for the cursor and quarantine, and updated once per page. An update is recorded in that
 * workflow's history before it answers, so a page committed here stays committed whatever happens to the
 * run or the worker afterwards. The update id makes a retried commit a no-op.
 */
export function createSyncStateActivities(deps: { temporalClient?: Client }) {
  function client(): Client {
    if (!deps.temporalClient) {
      throw ApplicationFailure.create({
        type: ErrorType.Misconfigured,
        nonRetryable: true,
        message: 'the worker was started without a Temporal client: batch sync state is unavailable',
      });
    }
    return deps.temporalClient;
  }

  async function handle(name: string) {
    const queue = activityInfo().taskQueue;
    const coordinator = `${queue.slice(0, queue.lastIndexOf('.'))}.coordinator`;
    const workflowId = `sync-state:${name}`;
    await client().workflow.start('syncState', {
      workflowId,
      taskQueue: coordinator,
      args: [{ name }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return client().workflow.getHandle(workflowId);
  }

  return {
    async loadSyncState(input: { name: string }): Promise<SyncStateData> {
      return (await handle(input.name)).query<SyncStateData>('getSyncState');
    },

    async commitSyncPage(
      input: CommitPageInput & { name: string },
    ): Promise<{ cursor?: SyncCursor; quarantined: number }> {
      const { name, ...page } = input;
      const info = activityInfo();
      return (await handle(name)).executeUpdate<
        { cursor?: SyncCursor; quarantined: number },
        [CommitPageInput]
      >('commitPage', {
        args: [page],
        updateId: `${info.workflowExecution?.workflowId ?? info.workflowType}/${info.workflowExecution?.runId ?? ''}/${info.activityId}`,
      });
    },

    async recordSyncRun(input: { name: string; summary: SyncRunSummary }): Promise<void> {
      await (await handle(input.name)).executeUpdate('recordRun', { args: [input.summary] });
    },

    async listQuarantine(input: { name: string }): Promise<QuarantinedRecord[]> {
      return (await handle(input.name)).query<SyncStateData>('getSyncState').then((s) => s.quarantine);
    },
  };
}

export type SyncStateActivities = ReturnType<typeof createSyncStateActivities>;
