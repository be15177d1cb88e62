/**
 * The external systems the coordinator talks to: one name each, and the facts about each that are plain
 * data. Workflow code, the domain and the simulators' start-up read this file, so it imports nothing.
 *
 * Every per-system table of the project is a record over `SystemName` (`satisfies Record<SystemName, …>`):
 * adding a name here makes each table that lacks an entry for it fail to compile. The Node-side tables
 * are `systemActivities` (src/workers/dependencies.ts), `connectivityTargetsOf` (src/api/systems.ts),
 * the simulators' start table (src/simulators/index.ts), the banner of `npm start` (src/dev/start.ts) and
 * the test environment (test/support/environment.ts); docs/adding-a-system.md lists them.
 */
export const systemNames = ['salesforce', 'sap', 'webhooks', 'inventory', 'billing'] as const;
export type SystemName = (typeof systemNames)[number];

export interface SystemFacts {
  /** How people name it (logs, the `npm start` banner). */
  readonly title: string;
  /** Its simulator: the port `npm start` and `npm run simulators` give it, and the variable that moves it. */
  readonly simulator: { readonly port: number; readonly portVariable: `SIM_${string}_PORT` };
  /**
   * Whether workers host activities for it on its own task queue `<prefix>.<name>`, rate limited by
   * `variable` (activities per second across all workers, 0 = off) with `perSecond` as the default.
   * `false`: the coordinator has no activities for it yet (no queue, no worker).
   */
  readonly activities:
    | false
    | {
        readonly rateLimit: {
          readonly variable: `${string}_RATE_LIMIT_PER_SECOND`;
          readonly perSecond: number;
        };
      };
  /**
   * Whether it sends change events to `/webhooks/<name>` (Standard Webhooks, signed with the secret in
   * `secretVariable`), which the entity workflows consume.
   */
  readonly events: false | { readonly secretVariable: `${string}_EVENTS_SECRET` };
  /** Its permanent (non-retryable) failure types; transient ones share SystemUnavailable, RateLimited, Timeout. */
  readonly errorTypes: readonly string[];
}

export const systemCatalog = {
  salesforce: {
    title: 'Salesforce',
    simulator: { port: 4010, portVariable: 'SIM_SALESFORCE_PORT' },
    activities: { rateLimit: { variable: 'SALESFORCE_RATE_LIMIT_PER_SECOND', perSecond: 20 } },
    events: { secretVariable: 'SALESFORCE_EVENTS_SECRET' },
    errorTypes: ['SalesforceRejected', 'SalesforceAuthFailed'],
  },
  sap: {
    title: 'SAP',
    simulator: { port: 4020, portVariable: 'SIM_SAP_PORT' },
    activities: { rateLimit: { variable: 'SAP_RATE_LIMIT_PER_SECOND', perSecond: 10 } },
    events: { secretVariable: 'SAP_EVENTS_SECRET' },
    errorTypes: ['SapBusinessError', 'SapAuthFailed', 'SapCustomerConflict'],
  },
  webhooks: {
    title: 'Webhooks',
    simulator: { port: 4030, portVariable: 'SIM_WEBHOOK_PORT' },
    activities: { rateLimit: { variable: 'WEBHOOK_RATE_LIMIT_PER_SECOND', perSecond: 50 } },
    events: false,
    errorTypes: ['WebhookRejected', 'WebhookSubscriberGone'],
  },
  inventory: {
    title: 'Inventory',
    simulator: { port: 4040, portVariable: 'SIM_INVENTORY_PORT' },
    activities: false,
    events: { secretVariable: 'INVENTORY_EVENTS_SECRET' },
    errorTypes: ['InventoryRejected'],
  },
  billing: {
    title: 'Billing',
    simulator: { port: 4050, portVariable: 'SIM_BILLING_PORT' },
    activities: { rateLimit: { variable: 'BILLING_RATE_LIMIT_PER_SECOND', perSecond: 20 } },
    events: false,
    errorTypes: ['BillingRejected', 'BillingAuthFailed', 'BillingCustomerConflict'],
  },
} as const satisfies Record<SystemName, SystemFacts>;

type Catalog = typeof systemCatalog;

/** Systems whose activities run on their own task queue. */
export type ActivitySystem = {
  [K in SystemName]: Catalog[K]['activities'] extends false ? never : K;
}[SystemName];
/** Systems that send change events to the coordinator's webhook ingress. */
export type EventSourceSystem = {
  [K in SystemName]: Catalog[K]['events'] extends false ? never : K;
}[SystemName];
/** A permanent failure type of some system. */
export type SystemErrorType = Catalog[SystemName]['errorTypes'][number];
export type SimulatorPortVariable = Catalog[SystemName]['simulator']['portVariable'];
export type RateLimitVariable = Catalog[ActivitySystem]['activities']['rateLimit']['variable'];
export type EventSecretVariable = Catalog[EventSourceSystem]['events']['secretVariable'];

export const activitySystems = systemNames.filter(
  (name): name is ActivitySystem => systemCatalog[name].activities !== false,
);
export const eventSourceSystems = systemNames.filter(
  (name): name is EventSourceSystem => systemCatalog[name].events !== false,
);

/** The rate-limit variable and default of a system with activities. */
export function rateLimitOf(system: ActivitySystem): { variable: RateLimitVariable; perSecond: number } {
  return systemCatalog[system].activities.rateLimit;
}

/** The loopback URL of a system's simulator on its default port (configuration defaults point there). */
export function defaultSimulatorUrl(system: SystemName, path = ''): string {
  return `http://127.0.0.1:${systemCatalog[system].simulator.port}${path}`;
}
