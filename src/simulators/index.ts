import { BILLING_DEFAULT_PORT, createBillingSimulator, DEV_BILLING_SECRET_KEY } from './billing';
import type { BillingSimulator, BillingSimulatorOptions } from './billing';
import type { RunningSimulator } from './common/server';
import { createInventorySimulator, DEV_INVENTORY_API_KEY, INVENTORY_DEFAULT_PORT } from './inventory';
import { createSalesforceSimulator } from './salesforce';
import type { SalesforceSimulator, SalesforceSimulatorOptions } from './salesforce';
import { createSapSimulator, SAP_DEFAULT_PORT, SAP_SOAP_PATH } from './sap';
import type { SapSimulator, SapSimulatorOptions } from './sap';
import type { InventoryOptions, InventorySimulator } from './inventory';
import {
  createWebhookConsumerSimulator,
  DEFAULT_WEBHOOK_ENDPOINTS,
  WEBHOOK_CONSUMER_DEFAULT_PORT,
} from './webhook-consumer';
import type { WebhookConsumerOptions, WebhookConsumerSimulator } from './webhook-consumer';

export { createBillingSimulator } from './billing';
export { createInventorySimulator } from './inventory';
export { createSalesforceSimulator } from './salesforce';
export { createSapSimulator } from './sap';
export { createWebhookConsumerSimulator } from './webhook-consumer';
export type { RunningSimulator, SimulatorCore } from './common/server';

export type SimulatorName = 'salesforce' | 'sap' | 'webhook-consumer' | 'inventory' | 'billing';

export interface SimulatorHandle {
  name: SimulatorName;
  /** Base URL of the simulator. */
  url: string;
  /** Where a client points (may be the base URL plus a protocol path). */
  endpoint: string;
  port: number;
  adminUrl: string;
  /** Dev credentials, for printing. */
  credentials: string;
  stop(): Promise<void>;
}

export interface StartAllOptions {
  host?: string;
  /** Per-simulator port; 0 picks a free one. Defaults: 4010, 4020, 4030, 4040, 4050. */
  ports?: Partial<Record<SimulatorName, number>>;
  /** Start only these (default: all). */
  only?: readonly SimulatorName[];
  salesforce?: SalesforceSimulatorOptions;
  sap?: SapSimulatorOptions;
  webhookConsumer?: WebhookConsumerOptions;
  inventory?: InventoryOptions;
  billing?: BillingSimulatorOptions;
}

export interface StartedSimulators {
  handles: SimulatorHandle[];
  byName: Partial<Record<SimulatorName, SimulatorHandle>>;
  /** The simulator objects, for programmatic access (records, faults) in the same process. */
  simulators: {
    salesforce?: SalesforceSimulator;
    sap?: SapSimulator;
    webhookConsumer?: WebhookConsumerSimulator;
    inventory?: InventorySimulator;
    billing?: BillingSimulator;
  };
  /** Stops all of them, in reverse start order. */
  stop(): Promise<void>;
}

export const DEFAULT_SIMULATOR_PORTS: Record<SimulatorName, number> = {
  salesforce: 4010,
  sap: SAP_DEFAULT_PORT,
  'webhook-consumer': WEBHOOK_CONSUMER_DEFAULT_PORT,
  inventory: INVENTORY_DEFAULT_PORT,
  billing: BILLING_DEFAULT_PORT,
};

/** The environment variable that sets each simulator's port (as `npm run simulators` reads it). */
export const SIMULATOR_PORT_ENV: Record<SimulatorName, string> = {
  salesforce: 'SIM_SALESFORCE_PORT',
  sap: 'SIM_SAP_PORT',
  'webhook-consumer': 'SIM_WEBHOOK_PORT',
  inventory: 'SIM_INVENTORY_PORT',
  billing: 'SIM_BILLING_PORT',
};

const ORDER: readonly SimulatorName[] = ['salesforce', 'sap', 'webhook-consumer', 'inventory', 'billing'];

function handle(
  name: SimulatorName,
  running: RunningSimulator,
  endpointPath: string,
  credentials: string,
): SimulatorHandle {
  return {
    name,
    url: running.url,
    endpoint: running.url + endpointPath,
    port: running.port,
    adminUrl: `${running.url}/__admin/`,
    credentials,
    stop: () => running.stop(),
  };
}

/**
 * Starts the simulators (all by default) on loopback. If one cannot start (a port in use), the ones
 * already started are stopped again and the error, naming the port, is rethrown.
 */
export async function startAllSimulators(options: StartAllOptions = {}): Promise<StartedSimulators> {
  const host = options.host ?? '127.0.0.1';
  const port = (name: SimulatorName) => options.ports?.[name] ?? DEFAULT_SIMULATOR_PORTS[name];
  const wanted = ORDER.filter((n) => !options.only || options.only.includes(n));
  const started: StartedSimulators = {
    handles: [],
    byName: {},
    simulators: {},
    stop: async () => {
      for (const h of [...started.handles].reverse()) await h.stop();
    },
  };

  try {
    for (const name of wanted) {
      let h: SimulatorHandle;
      switch (name) {
        case 'salesforce': {
          const sim = createSalesforceSimulator(options.salesforce);
          started.simulators.salesforce = sim;
          const o = sim.options;
          h = handle(
            name,
            await sim.start({ port: port(name), host }),
            '',
            `OAuth2 client_id ${o.clientId} / client_secret ${o.clientSecret}; user ${o.username} / ${o.password}`,
          );
          break;
        }
        case 'sap': {
          const sim = createSapSimulator(options.sap);
          started.simulators.sap = sim;
          const users = Object.entries(options.sap?.users ?? { DEV_USER: 'dev-password' })
            .map(([u, pw]) => `${u} / ${pw}`)
            .join(', ');
          h = handle(name, await sim.start({ port: port(name), host }), SAP_SOAP_PATH, `Basic auth ${users}`);
          break;
        }
        case 'webhook-consumer': {
          const sim = createWebhookConsumerSimulator(options.webhookConsumer);
          started.simulators.webhookConsumer = sim;
          const endpoints = options.webhookConsumer?.endpoints ?? DEFAULT_WEBHOOK_ENDPOINTS;
          const secrets = endpoints
            .map((e) => `${e.name}: ${typeof e.secret === 'string' ? e.secret : e.secret.join(' | ')}`)
            .join(', ');
          h = handle(
            name,
            await sim.start({ port: port(name), host }),
            '/hooks/<endpoint>',
            `secrets ${secrets}`,
          );
          break;
        }
        case 'inventory': {
          const sim = createInventorySimulator(options.inventory);
          started.simulators.inventory = sim;
          const key = options.inventory?.apiKeys?.[0] ?? DEV_INVENTORY_API_KEY;
          const events = options.inventory?.events ? `, events -> ${options.inventory.events.url}` : '';
          h = handle(name, await sim.start({ port: port(name), host }), '', `x-api-key: ${key}${events}`);
          break;
        }
        case 'billing': {
          const sim = createBillingSimulator(options.billing);
          started.simulators.billing = sim;
          const key = options.billing?.secretKeys?.[0] ?? DEV_BILLING_SECRET_KEY;
          h = handle(
            name,
            await sim.start({ port: port(name), host }),
            '',
            `Bearer ${key} (Stripe-compatible)`,
          );
          break;
        }
      }
      started.handles.push(h);
      started.byName[name] = h;
    }
  } catch (err) {
    await started.stop().catch(() => undefined);
    throw err;
  }
  return started;
}
