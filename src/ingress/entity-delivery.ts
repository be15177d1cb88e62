import type { Client } from '@temporalio/client';
import { routeEntityEvent } from '../domain/entity-event';
import type { EntityEvent } from '../domain/entity-event';
import { entityEventSignal } from '../workflows/entity-sync.messages';
import type { EntitySyncInput } from '../workflows/entity-sync.messages';
import { BusinessKey, IntegrationFlow } from '../workflows/shared/search-attributes';

/**
 * The one way a source change reaches its entity workflow, shared by the webhook ingress
 * (src/api/routes/webhooks.ts) and the Salesforce CDC subscriber (src/cdc/): signal-with-start to the record's
 * workflow, so events for one record queue up in that one workflow in arrival order, and a repeated
 * event id is dropped there.
 */
export interface EntityDeliverySettings {
  /** The coordinator task queue the entity workflows run on. */
  workflowQueue: string;
  /** FIELD_OWNERSHIP, passed to entity workflows when they start. */
  ownership?: EntitySyncInput['ownership'];
  /** ENTITY_IDLE_TIMEOUT, passed to entity workflows when they start. */
  idleTimeout?: string;
  temporalUiUrl?: string;
  /**
   * Put before every entity workflow id (`order:<id>` becomes `<prefix>order:<id>`): lets two
   * deployments, or two test files, share one namespace without sharing records' workflows.
   */
  workflowIdPrefix?: string;
}

export async function deliverEntityEvent(
  client: Client,
  settings: EntityDeliverySettings,
  event: EntityEvent,
): Promise<{ eventId: string; workflowId: string }> {
  const routed = routeEntityEvent(event);
  const route = { ...routed, workflowId: `${settings.workflowIdPrefix ?? ''}${routed.workflowId}` };
  const input: EntitySyncInput = {
    route,
    ownership: settings.ownership,
    idleTimeout: settings.idleTimeout,
    temporalUiUrl: settings.temporalUiUrl,
  };
  // Starts the record's workflow if none runs, else only signals it: either way one round trip.
  await client.workflow.signalWithStart(route.workflowType, {
    workflowId: route.workflowId,
    taskQueue: settings.workflowQueue,
    args: [input],
    signal: entityEventSignal,
    signalArgs: [event],
    typedSearchAttributes: [
      { key: IntegrationFlow, value: 'event-sync' },
      { key: BusinessKey, value: route.businessKey },
    ],
  });
  return { eventId: event.eventId, workflowId: route.workflowId };
}
