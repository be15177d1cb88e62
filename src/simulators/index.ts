import { createBillingSimulator, DEV_BILLING_SECRET_KEY } from './billing';
import type { BillingSimulator, BillingSimulatorOptions } from './billing';
import type { RunningSimulator } from './common/server';
// The one coordinator file the simulators read: plain data (names, ports, port variables), no code.
import { systemCatalog, systemNames } from '../systems/catalog';
import type { SystemName } from '../systems/catalog';
import { createInventorySimulator, DEV_INVENTORY_API_KEY } from './inventory';
import { createSalesforceSimulator } from './salesforce';
import type { SalesforceSimulator, SalesforceSimulatorOptions } from './salesforce';
import { createSapSimulator, SAP_SOAP_PATH } from './sap';
import type { SapSimulator, SapSimulatorOptions } from './sap';
import type { InventoryOptions, InventorySimulator } from './inventory';
import { createWebhookConsumerSimulator, DEFAULT_WEBHOOK_ENDPOINTS } from './webhook-consumer';
import type { WebhookConsumerOptions, WebhookConsumerSimulator } from './webhook-consumer';

export { createBillingSimulator } from './billing';
export { createInventorySimulator } from './inventory';
export { createSalesforceSimulator } from './salesforce';
export { createSapSimulator } from './sap';
export { createWebhookConsumerSimulator } from './webhook-consumer';
export type { RunningSimulator, SimulatorCore } from './common/server';

/** A simulator per system of the catalog, named like the system. */
export type SimulatorName = SystemName;

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
  /** Per-simulator port; 0 picks a free one. Defaults: the catalog's (4010, 4020, 4030, 4040, 4050). */
  ports?: Partial<Record<SimulatorName, number>>;
  /** Start only these (default: all). */
  only?: readonly SimulatorName[];
  salesforce?: SalesforceSimulatorOptions;
  sap?: SapSimulatorOptions;
  webhooks?: WebhookConsumerOptions;
  inventory?: InventoryOptions;
  billing?: BillingSimulatorOptions;
}

/** The simulator objects, for programmatic access (records, faults) in the same process. */
export interface SimulatorsByName {
  salesforce: SalesforceSimulator;
  sap: SapSimulator;
  webhooks: WebhookConsumerSimulator;
  inventory: InventorySimulator;
  billing: BillingSimulator;
}

export interface StartedSimulators {
  handles: SimulatorHandle[];
  byName: Partial<Record<SimulatorName, SimulatorHandle>>;
  simulators: Partial<SimulatorsByName>;
  /** Stops all of them, in reverse start order. */
  stop(): Promise<void>;
}

export const DEFAULT_SIMULATOR_PORTS = Object.fromEntries(
  systemNames.map((name) => [name, systemCatalog[name].simulator.port]),
) as Record<SimulatorName, number>;

/** The environment variable that sets each simulator's port (as `npm run simulators` reads it). */
export const SIMULATOR_PORT_ENV = Object.fromEntries(
  systemNames.map((name) => [name, systemCatalog[name].simulator.portVariable]),
) as Record<SimulatorName, string>;

interface Starter<N extends SimulatorName> {
  create(options: StartAllOptions): SimulatorsByName[N];
  /** The path a client appends to the base URL, and the dev credentials, for printing. */
  describe(sim: SimulatorsByName[N], options: StartAllOptions): { endpointPath: string; credentials: string };
}

/** How to start each simulator: a record over every system, so a new one without an entry does not compile. */
const starters: { [N in SimulatorName]: Starter<N> } = {
  salesforce: {
    create: (o) => createSalesforceSimulator(o.salesforce),
    describe: ({ options: o }) => ({
      endpointPath: '',
      credentials: `OAuth2 client_id ${o.clientId} / client_secret ${o.clientSecret}; user ${o.username} / ${o.password}`,
    }),
  },
  sap: {
    create: (o) => createSapSimulator(o.sap),
    describe: (_sim, o) => ({
      endpointPath: SAP_SOAP_PATH,
      credentials: `Basic auth ${Object.entries(o.sap?.users ?? { DEV_USER: 'dev-password' })
        .map(([u, pw]) => `${u} / ${pw}`)
        .join(', ')}`,
    }),
  },
  webhooks: {
    create: (o) => createWebhookConsumerSimulator(o.webhooks),
    describe: (_sim, o) => ({
      endpointPath: '/hooks/<endpoint>',
      credentials: `secrets ${(o.webhooks?.endpoints ?? DEFAULT_WEBHOOK_ENDPOINTS)
        .map((e) => `${e.name}: ${typeof e.secret === 'string' ? e.secret : e.secret.join(' | ')}`)
        .join(', ')}`,
    }),
  },
  inventory: {
    create: (o) => createInventorySimulator(o.inventory),
    describe: (_sim, o) => ({
      endpointPath: '',
      credentials: `x-api-key: ${o.inventory?.apiKeys?.[0] ?? DEV_INVENTORY_API_KEY}${
        o.inventory?.events ? `, events -> ${o.inventory.events.url}` : ''
      }`,
    }),
  },
  billing: {
    create: (o) => createBillingSimulator(o.billing),
    describe: (_sim, o) => ({
      endpointPath: '',
      credentials: `Bearer ${o.billing?.secretKeys?.[0] ?? DEV_BILLING_SECRET_KEY} (Stripe-compatible)`,
    }),
  },
};

async function startOne<N extends SimulatorName>(
  name: N,
  options: StartAllOptions,
  started: StartedSimulators,
): Promise<SimulatorHandle> {
  const starter = starters[name];
  const sim = starter.create(options);
  (started.simulators as Record<N, SimulatorsByName[N]>)[name] = sim;
  const running: RunningSimulator = await sim.start({
    port: options.ports?.[name] ?? DEFAULT_SIMULATOR_PORTS[name],
    host: options.host ?? '127.0.0.1',
  });
  const { endpointPath, credentials } = starter.describe(sim, options);
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
 * Starts the simulators (all by default, in the catalog's order) on loopback. If one cannot start (a
 * port in use), the ones already started are stopped again and the error, naming the port, is rethrown.
 */
export async function startAllSimulators(options: StartAllOptions = {}): Promise<StartedSimulators> {
  const wanted = systemNames.filter((n) => !options.only || options.only.includes(n));
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
      const h = await startOne(name, options, started);
      started.handles.push(h);
      started.byName[name] = h;
    }
  } catch (err) {
    await started.stop().catch(() => undefined);
    throw err;
  }
  return started;
}
