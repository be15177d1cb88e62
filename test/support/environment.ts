import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import type { Config } from '../../src/config';
import { buildActivities } from '../../src/workers/dependencies';
import type { TestWorkerOptions } from './workers';
import { startAllSimulators } from '../../src/simulators';
import type { SimulatorHandle, StartAllOptions } from '../../src/simulators';
import type { SalesforceSimulator } from '../../src/simulators/salesforce';
import type { SapSimulator } from '../../src/simulators/sap';
import type { WebhookConsumerSimulator } from '../../src/simulators/webhook-consumer';
import type { SystemName } from '../../src/systems/catalog';
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

const testWebhookSecret = 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk';

/**
 * The configuration that points the coordinator at each system's simulator. A record over every system:
 * a new system without an entry does not compile.
 */
export const simulatorEnvOf = {
  salesforce: (sim) => ({ SALESFORCE_LOGIN_URL: sim.url }),
  sap: (sim) => ({ SAP_ENDPOINT: sim.endpoint, SAP_TIMEOUT_MS: '5000' }),
  webhooks: (sim) => ({
    WEBHOOK_SUBSCRIBERS: JSON.stringify([
      { name: 'consumer', url: `${sim.url}/hooks/default`, secret: testWebhookSecret },
    ]),
    WEBHOOK_TIMEOUT_MS: '3000',
  }),
  inventory: (sim) => ({ INVENTORY_BASE_URL: sim.url }),
  billing: (sim) => ({ BILLING_API_URL: sim.url }),
} satisfies Record<SystemName, (sim: SimulatorHandle) => Record<string, string>>;

/** The simulators an integration environment starts (the customer flow's systems). */
const environmentSystems = ['salesforce', 'sap', 'webhooks'] as const satisfies readonly SystemName[];

/**
 * The simulators on ephemeral loopback ports and a configuration pointing at them, built with the
 * same `loadConfig` and `buildActivities` as production. One environment per test file.
 */
export async function startIntegrationEnvironment(
  t: TemporalTestContext,
  env: Record<string, string> = {},
  simulators: Pick<StartAllOptions, 'salesforce' | 'webhooks'> = {},
): Promise<IntegrationEnvironment> {
  const started = await startAllSimulators({
    ...simulators,
    only: environmentSystems,
    ports: Object.fromEntries(environmentSystems.map((s) => [s, 0])),
  });
  const alerts = await startRecorder();
  const config = loadConfig({
    API_TOKEN: 'test-token-0123456789abcdef',
    ...Object.assign({}, ...environmentSystems.map((s) => simulatorEnvOf[s](started.byName[s]!))),
    ALERT_WEBHOOK_URL: alerts.url,
    ...env,
  });
  const { salesforce, sap, webhooks } = started.simulators as Required<typeof started.simulators>;
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
      await started.stop();
      await alerts.close();
    },
  };
}

export function newPrefix(label: string): string {
  return uniquePrefix(label);
}

export type { Client };
