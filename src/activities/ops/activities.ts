import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { ErrorType } from '../../domain/error-types';

export interface OpsDeps {
  http?: AxiosInstance;
  timeoutMs?: number;
  /**
   * How the coordinator's own writes show up in source events: the Salesforce `changeOrigin` client
   * name and the SAP technical user. Entity workflows use them for echo suppression.
   */
  ownChangeMarkers?: string[];
  /** For entity workflows that start again after an idle close: reads the state their last run ended with. */
  temporalClient?: Client;
}

/** What an entity workflow's closed run returned (src/workflows/shared/entity-loop.ts), as far as it is read here. */
interface ClosedEntityRun {
  state?: Record<string, unknown>;
}

export interface ProbeInput {
  system: string;
  url: string;
}

export interface ProbeResult {
  system: string;
  url: string;
  status: number;
  attempts: number;
  latencyMs: number;
}

/**
 * Operational activities: reachability probes of the integrated systems (the `connectivityCheck`
 * workflow) and, later, alerts. A probe counts any HTTP answer below 500 as reachable (401 means the
 * system is up and asks for credentials); connection errors and 5xx are retryable.
 */
export function createOpsActivities(deps: OpsDeps = {}) {
  const http = deps.http ?? axios.create({ timeout: deps.timeoutMs ?? 5_000, maxRedirects: 0 });

  return {
    async ownChangeMarkers(): Promise<string[]> {
      return deps.ownChangeMarkers ?? [];
    },

    /**
     * The state the latest completed run of this workflow id ended with, so a record's workflow that
     * closed when idle and starts again remembers its seen events, field versions and links. Undefined
     * for a record seen for the first time.
     */
    async previousEntityState(input: { workflowId: string }): Promise<Record<string, unknown> | undefined> {
      const client = deps.temporalClient;
      if (!client) return undefined;
      const id = input.workflowId.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
      let latest: { runId: string; closeTime: number } | undefined;
      let seen = 0;
      for await (const wf of client.workflow.list({
        query: `WorkflowId = '${id}' AND ExecutionStatus = 'Completed'`,
        pageSize: 20,
      })) {
        const closed = wf.closeTime?.getTime() ?? 0;
        if (!latest || closed > latest.closeTime) latest = { runId: wf.runId, closeTime: closed };
        if (++seen >= 100) break;
      }
      if (!latest) return undefined;
      const result = (await client.workflow.getHandle(input.workflowId, latest.runId).result()) as
        ClosedEntityRun | undefined;
      return result?.state;
    },

    async probeEndpoint(input: ProbeInput): Promise<ProbeResult> {
      const started = performance.now();
      let status: number;
      try {
        const res = await http.get(input.url, { validateStatus: () => true, responseType: 'text' });
        status = res.status;
      } catch (err) {
        throw ApplicationFailure.create({
          type: ErrorType.SystemUnavailable,
          message: `${input.system} at ${input.url} is unreachable: ${(err as Error).message}`,
        });
      }
      if (status >= 500) {
        throw ApplicationFailure.create({
          type: ErrorType.SystemUnavailable,
          message: `${input.system} at ${input.url} answered HTTP ${status}`,
          details: [{ status }],
        });
      }
      return {
        ...input,
        status,
        attempts: activityInfo().attempt,
        latencyMs: Math.round(performance.now() - started),
      };
    },
  };
}

export type OpsActivities = ReturnType<typeof createOpsActivities>;
