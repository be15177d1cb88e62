/**
 * The canonical entity event and its routing rule, pure domain: the contract between the webhook
 * ingress (src/api/routes/webhooks.ts) and the entity workflows: every verified
 * source event becomes one `EntityEvent`, delivered by signal-with-start to the one long-lived
 * workflow that owns its business record, so events for one record are applied in order, one at a time.
 */
import type { EventSourceSystem } from '../systems/catalog';

/** A system that sends change events (src/systems/catalog.ts). */
export type SourceSystem = EventSourceSystem;

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
