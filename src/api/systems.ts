import type { Config } from '../config';
import { eventSourceSystems, systemCatalog, systemNames } from '../systems/catalog';
import type { EventSourceSystem, SystemName } from '../systems/catalog';
import type { ConnectivityTarget } from '../workflows/connectivity-check.messages';

/**
 * What the connectivity check probes of each system, from configuration: a record over every system of
 * the catalog, so a new system without an entry does not compile (an empty list: nothing to probe).
 */
export const connectivityTargetsOf = {
  salesforce: (config) => [{ system: 'salesforce', url: `${config.SALESFORCE_LOGIN_URL}/services/data/` }],
  sap: (config) => [{ system: 'sap', url: config.SAP_ENDPOINT }],
  webhooks: (config) => config.WEBHOOK_SUBSCRIBERS.map((s) => ({ system: `webhook:${s.name}`, url: s.url })),
  inventory: (config) => [{ system: 'inventory', url: config.INVENTORY_BASE_URL }],
  billing: (config) =>
    config.BILLING_ENABLED ? [{ system: 'billing', url: `${config.BILLING_API_URL}/v1/customers` }] : [],
} satisfies Record<SystemName, (config: Config) => ConnectivityTarget[]>;

export function connectivityTargets(config: Config): ConnectivityTarget[] {
  return systemNames.flatMap((system) => connectivityTargetsOf[system](config));
}

/** The secret each event source signs its webhooks with. */
export function eventSecrets(config: Config): Record<EventSourceSystem, string> {
  return Object.fromEntries(
    eventSourceSystems.map((s) => [s, config[systemCatalog[s].events.secretVariable]]),
  ) as Record<EventSourceSystem, string>;
}
