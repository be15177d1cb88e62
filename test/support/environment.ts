import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import type { Config } from '../../src/config';
import { buildActivities } from '../../src/workers/dependencies';
import type { TestWorkerOptions } from './workers';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { SalesforceSimulator, SalesforceSimulatorOptions } from '../../src/simulators/salesforce';
import { createSapSimulator } from '../../src/simulators/sap';
import type { SapSimulator } from '../../src/simulators/sap';
import { createWebhookConsumerSimulator } from '../../src/simulators/webhook-consumer';
import type { WebhookConsumerSimulator } from '../../src/simulators/webhook-consumer';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { startRecorder } from './recorder';
import type { TemporalTestContext } from './temporal';
import { uniquePrefix } from './temporal';
import { startWorkers, withWorkers } from './workers';
import type { RunningWorkers } from './workers';

export interface IntegrationEnvironment {
  config: Config;
  salesforce: SalesforceSimulator;
  sap: SapSimulator;
  webhooks: WebhookConsumerSimulator;
  alerts: Awaited<ReturnType<typeof startRecorder>>;
  /** Starts the coordinator's real workers (real clients, real activities) against the simulators. */
  startWorkers(
    prefix: string,
    identity?: string,
    extra?: Pick<TestWorkerOptions, 'plugins' | 'workflowBundle'>,
  ): Promise<RunningWorkers>;
  /** Runs `body` while the workers poll `prefix`'s queues; stops them afterwards, whatever happened. */
  withWorkers<T>(
    prefix: string,
    body: (workers: RunningWorkers) => Promise<T>,
    identity?: string,
  ): Promise<T>;
  stop(): Promise<void>;
}

/**
 * The simulators on ephemeral loopback ports and a configuration pointing at them, built with the
 * same `loadConfig` and `buildActivities` as production. One environment per test file.
 */
export async function startIntegrationEnvironment(
  t: TemporalTestContext,
  env: Record<string, string> = {},
  simulators: { salesforce?: SalesforceSimulatorOptions } = {},
): Promise<IntegrationEnvironment> {
  const salesforce = createSalesforceSimulator(simulators.salesforce);
  const sap = createSapSimulator();
  const webhooks = createWebhookConsumerSimulator();
  const running: RunningSimulator[] = [
    await salesforce.start({ port: 0 }),
    await sap.start({ port: 0 }),
    await webhooks.start({ port: 0 }),
  ];
  const [sfRun, sapRun, hookRun] = running as [RunningSimulator, RunningSimulator, RunningSimulator];
  const alerts = await startRecorder();
  const config = loadConfig({
    API_TOKEN: 'test-token-0123456789abcdef',
    SALESFORCE_LOGIN_URL: sfRun.url,
    SAP_ENDPOINT: `${sapRun.url}/sap/bc/soap/rfc`,
    SAP_TIMEOUT_MS: '5000',
    WEBHOOK_SUBSCRIBERS: JSON.stringify([
      {
        name: 'consumer',
        url: `${hookRun.url}/hooks/default`,
        secret: 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk',
      },
    ]),
    WEBHOOK_TIMEOUT_MS: '3000',
    ALERT_WEBHOOK_URL: alerts.url,
    ...env,
  });
  return {
    config,
    salesforce,
    sap,
    webhooks,
    alerts,
    startWorkers(prefix, identity, extra = {}) {
      return startWorkers(t, {
        prefix,
        activities: buildActivities(config, { temporalClient: t.client }),
        identity,
        ...extra,
      });
    },
    withWorkers(prefix, body, identity) {
      return withWorkers(
        t,
        { prefix, activities: buildActivities(config, { temporalClient: t.client }), identity },
        body,
      );
    },
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
      await alerts.close();
    },
  };
}

export function newPrefix(label: string): string {
  return uniquePrefix(label);
}

export type { Client };
