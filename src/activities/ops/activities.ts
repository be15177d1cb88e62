import { activityInfo } from '@temporalio/activity';
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
