import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { FieldOwner } from '../domain/order-sync';

export type { FieldOwner };

/**
 * Contract between the webhook ingress (src/api/webhooks.ts) and the entity workflows: every verified
 * source event becomes one `EntityEvent`, delivered by signal-with-start to the one long-lived
 * workflow that owns its business record, so events for one record are applied in order, one at a time.
 */

export type SourceSystem = 'salesforce' | 'sap' | 'inventory';

export type EntityEventKind =
  | 'account.created'
  | 'opportunity.updated'
  | 'sap.salesorder.created'
  | 'sap.salesorder.changed'
  | 'inventory.stock_changed';

export interface EntityEvent {
  /** The source's event id (`webhook-id`): the deduplication key. */
  eventId: string;
  source: SourceSystem;
  kind: EntityEventKind;
  /** The record the event is about, in the source's terms (Salesforce id, SAP VBELN, SKU). */
  recordId: string;
  /** When the source changed the record (Salesforce commitTimestamp, SAP CHANGED_AT, inventory changedAt), ISO. */
  occurredAt: string;
  /**
   * Who made the change, as the source reports it: Salesforce `changeOrigin`, SAP `CHANGED_BY`,
   * inventory `source`. Used for echo suppression.
   */
  origin?: string;
  /** Field values the event carries, in the source's own field names. */
  fields: Record<string, unknown>;
  /** Fields the source says changed (Salesforce changedFields; SAP CHANGED_FIELDS). */
  changedFields?: string[];
  /** When the coordinator received it (ISO), for latency tracing. */
  receivedAt: string;
}

export type EntityWorkflowType = 'accountSync' | 'orderSync' | 'inventorySync';

/** Which workflow owns an event's record, and under which id. */
export interface EntityRoute {
  workflowType: EntityWorkflowType;
  workflowId: string;
  /** The business key shown as the BusinessKey search attribute. */
  businessKey: string;
}

const salesforceOpportunityId = /^006[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;

/**
 * An Opportunity and the SAP sales order made from it are ONE record with two faces, so both sides'
 * events go to one workflow: `order:<opportunity id>`. The coordinator writes the Opportunity id into
 * the order's PURCH_NO_C; an order created in SAP without one is handled by `order:sap-<VBELN>` until
 * its Opportunity exists.
 */
export function routeEntityEvent(event: Pick<EntityEvent, 'kind' | 'recordId' | 'fields'>): EntityRoute {
  switch (event.kind) {
    case 'account.created':
      return {
        workflowType: 'accountSync',
        workflowId: `account:${event.recordId}`,
        businessKey: event.recordId,
      };
    case 'opportunity.updated':
      return {
        workflowType: 'orderSync',
        workflowId: `order:${event.recordId}`,
        businessKey: event.recordId,
      };
    case 'sap.salesorder.created':
    case 'sap.salesorder.changed': {
      const purchaseOrder = typeof event.fields.PURCH_NO_C === 'string' ? event.fields.PURCH_NO_C.trim() : '';
      return salesforceOpportunityId.test(purchaseOrder)
        ? { workflowType: 'orderSync', workflowId: `order:${purchaseOrder}`, businessKey: purchaseOrder }
        : {
            workflowType: 'orderSync',
            workflowId: `order:sap-${event.recordId}`,
            businessKey: event.recordId,
          };
    }
    case 'inventory.stock_changed':
      return {
        workflowType: 'inventorySync',
        workflowId: `inventory:${event.recordId}`,
        businessKey: event.recordId,
      };
  }
}

export const entityEventSignal = defineSignal<[EntityEvent]>('entityEvent');

export interface AppliedEvent {
  eventId: string;
  kind: EntityEventKind;
  outcome: 'applied' | 'echo' | 'duplicate' | 'stale' | 'ignored' | 'failed';
  detail?: string;
  at: string;
}

export interface EntityState {
  /** Event ids already handled (bounded), so a redelivery has no second effect. */
  seenEventIds: string[];
  /** Per system, the source timestamp of the last change applied from it. */
  lastSynced: Partial<Record<SourceSystem, string>>;
  /** Per canonical field, which system wrote it last and when (the conflict rule's memory). */
  fieldVersions: Record<string, { source: SourceSystem; at: string }>;
  /** What the coordinator last wrote into each system, per field (echo suppression by content). */
  lastWritten: Partial<Record<SourceSystem, Record<string, unknown>>>;
  /** Cross-references learned so far (Salesforce id, SAP number...). */
  links: Record<string, string>;
  /** The last outcomes, newest last (bounded), for operators. */
  recent: AppliedEvent[];
  /** Events applied since the workflow first started, across continue-as-new. */
  appliedCount: number;
}

export const getEntityStateQuery = defineQuery<EntityState & { pending: number; runEvents: number }>(
  'getEntityState',
);

export interface EntitySyncInput {
  route: EntityRoute;
  /** Field ownership of the order pair (FIELD_OWNERSHIP); ignored by other entity types. */
  ownership?: Record<string, FieldOwner>;
  /** Close after this long without events (default 1 hour). */
  idleTimeout?: string;
  /** Continue-as-new after this many events in one run (default 500) — or earlier when Temporal suggests it. */
  maxEventsPerRun?: number;
  /** Carried across continue-as-new. */
  state?: EntityState;
  pending?: EntityEvent[];
  temporalUiUrl?: string;
  /** Markers of the coordinator's own changes (read once from the worker's config, then carried). */
  ownMarkers?: string[];
}

export function emptyEntityState(): EntityState {
  return {
    seenEventIds: [],
    lastSynced: {},
    fieldVersions: {},
    lastWritten: {},
    links: {},
    recent: [],
    appliedCount: 0,
  };
}
