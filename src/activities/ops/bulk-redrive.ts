import type { Client } from '@temporalio/client';
import { listFailedRuns } from '../../runs/failed-runs';
import type { FailedRunsFilter } from '../../runs/failed-runs';
import { redriveRun, RedriveError } from '../../runs/redrive';

/**
 * The activities of a bulk redrive: one page of the failed runs, and the redrive of one run through
 * the flows registry's rule for its flow (`redriveRun`, the same as `POST /v1/runs/{id}/redrive`).
 */
export function createBulkRedriveActivities(deps: { temporalClient?: Client }) {
  const client = () => {
    if (!deps.temporalClient)
      throw new Error('bulk redrive needs a Temporal client (RuntimeDeps.temporalClient)');
    return deps.temporalClient;
  };
  return {
    async listFailedRunsPage(input: {
      workflowQueue: string;
      filter: FailedRunsFilter;
      pageSize: number;
      pageToken?: string;
    }): Promise<{ workflowIds: string[]; nextPageToken?: string }> {
      const page = await listFailedRuns(client(), input.workflowQueue, {
        ...input.filter,
        pageSize: input.pageSize,
        ...(input.pageToken ? { pageToken: input.pageToken } : {}),
      });
      return {
        workflowIds: page.runs.map((r) => r.workflowId),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },

    async redriveFailedRun(input: {
      workflowQueue: string;
      workflowId: string;
    }): Promise<{ outcome: 'redriven'; runId: string } | { outcome: 'refused'; code: string }> {
      try {
        const r = await redriveRun(client(), { workflowQueue: input.workflowQueue }, input.workflowId);
        return { outcome: 'redriven', runId: r.runId };
      } catch (err) {
        if (err instanceof RedriveError) return { outcome: 'refused', code: err.code };
        throw err;
      }
    },
  };
}

export type BulkRedriveActivities = ReturnType<typeof createBulkRedriveActivities>;
