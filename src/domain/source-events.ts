import { z } from 'zod';
import type { EntityEvent } from './entity-event';

/**
 * What the three sources send to `/webhooks/<source>`, as zod schemas, and the pure mappings from those
 * payloads to `EntityEvent`s (the entity workflows' one input shape). The shapes are the sources' own:
 * Salesforce Change Data Capture events, SAP sales-order events with BAPI field names, the inventory
 * service's stock changes (docs/simulators/*.md). Every envelope and data object accepts unknown extra
 * fields — real systems add fields over releases and a new field must not turn into a rejected event —
 * but the fields the mapping needs are required and typed, so a broken sender is told exactly what is
 * wrong (a 400 with the reason) instead of feeding a workflow half an event.
 *
 * A parser returns `{events}` (one per record the event is about), `{ignored: reason}` for a well-formed
 * event nobody subscribed to, or throws `SourceEventError` with a reason a human can act on.
 */

export class SourceEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceEventError';
  }
}

export type ParsedSourceEvent = { events: EntityEvent[] } | { ignored: string };

/** Every issue as `path: message`, so the sender sees which field is wrong. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new SourceEventError(`invalid ${what}: ${describeIssues(result.error)}`);
  return result.data;
}

const isoDateTime = z.iso.datetime({ offset: true });
const nonEmpty = z.string().min(1);

/** `{type, timestamp, data}` — the Standard Webhooks body every source sends. */
export const webhookEnvelopeSchema = z.looseObject({
  type: nonEmpty,
  /** When the source sent the event; optional in the seed's simple shapes. */
  timestamp: isoDateTime.optional(),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookEnvelope = z.infer<typeof webhookEnvelopeSchema>;

function envelopeOf(body: unknown): WebhookEnvelope {
  return parseWith(webhookEnvelopeSchema, body, 'event envelope');
}

// ------------------------------------------------------------------------------------------ Salesforce

export const SALESFORCE_CHANGE_EVENT = 'salesforce.change';

/** A 15- or 18-character Salesforce record id. */
const salesforceId = z
  .string()
  .regex(/^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/, 'must be a 15- or 18-character Salesforce id');

/** The header every CDC event carries; the rest of `payload` is the record's (changed) fields. */
export const changeEventHeaderSchema = z.looseObject({
  entityName: nonEmpty,
  // Not checked as ids here: overflow and gap events carry wildcard patterns, and they are ignored anyway.
  recordIds: z.array(z.string()),
  changeType: nonEmpty,
  changeOrigin: z.string(),
  commitTimestamp: z
    .number()
    .int()
    .positive()
    .refine((ms) => !Number.isNaN(new Date(ms).getTime()), 'must be epoch milliseconds of a real date'),
  changedFields: z.array(z.string()).default([]),
  transactionKey: z.string().optional(),
  sequenceNumber: z.number().int().optional(),
  commitUser: z.string().optional(),
});

/** The `data` of a `salesforce.change` webhook: a Change Data Capture event as CometD / Pub/Sub deliver it. */
export const salesforceChangeEventSchema = z.looseObject({
  schema: z.string().optional(),
  channel: z.string().optional(),
  payload: z.looseObject({ ChangeEventHeader: changeEventHeaderSchema }),
  event: z.looseObject({ replayId: z.union([z.number(), z.string()]) }).optional(),
});
export type SalesforceChangeEvent = z.infer<typeof salesforceChangeEventSchema>;

/**
 * The CDC entity / change type pairs the coordinator subscribes to, and the record-id key prefix each
 * must carry (001 Account, 006 Opportunity).
 */
const subscribedChanges: Record<
  string,
  { kind: 'account.created' | 'opportunity.updated'; keyPrefix: string }
> = {
  'Account CREATE': { kind: 'account.created', keyPrefix: '001' },
  'Opportunity UPDATE': { kind: 'opportunity.updated', keyPrefix: '006' },
};

/**
 * The seed's simple shapes, accepted beside CDC so existing senders keep working:
 * `{type: "account.created", data: {id: "001…", ...Account fields}}` and
 * `{type: "opportunity.updated", data: {id: "006…", StageName, ..., LastModifiedDate}}`.
 * The Opportunity shape must carry `LastModifiedDate`: the conflict rule orders changes by source time.
 */
export const simpleAccountCreatedSchema = z.looseObject({
  id: salesforceId.refine((id) => id.startsWith('001'), 'must be an Account id (001…)'),
  CreatedDate: isoDateTime.optional(),
  LastModifiedDate: isoDateTime.optional(),
});
export const simpleOpportunityUpdatedSchema = z.looseObject({
  id: salesforceId.refine((id) => id.startsWith('006'), 'must be an Opportunity id (006…)'),
  LastModifiedDate: isoDateTime,
});

export function parseSalesforceEvent(
  body: unknown,
  webhookId: string,
  receivedAt: string,
): ParsedSourceEvent {
  const envelope = envelopeOf(body);
  switch (envelope.type) {
    case SALESFORCE_CHANGE_EVENT:
      return fromChangeEvent(envelope, webhookId, receivedAt);
    case 'account.created': {
      const data = parseWith(simpleAccountCreatedSchema, envelope.data, 'account.created data');
      const { id, ...fields } = data;
      return {
        events: [
          {
            eventId: webhookId,
            source: 'salesforce',
            kind: 'account.created',
            recordId: id,
            occurredAt: toIso(data.CreatedDate ?? data.LastModifiedDate ?? envelope.timestamp ?? receivedAt),
            fields,
            receivedAt,
          },
        ],
      };
    }
    case 'opportunity.updated': {
      const data = parseWith(simpleOpportunityUpdatedSchema, envelope.data, 'opportunity.updated data');
      const { id, ...fields } = data;
      return {
        events: [
          {
            eventId: webhookId,
            source: 'salesforce',
            kind: 'opportunity.updated',
            recordId: id,
            occurredAt: toIso(data.LastModifiedDate),
            fields,
            receivedAt,
          },
        ],
      };
    }
    default:
      throw new SourceEventError(
        `unknown Salesforce event type "${envelope.type}" (expected ${SALESFORCE_CHANGE_EVENT}, account.created or opportunity.updated)`,
      );
  }
}

function fromChangeEvent(
  envelope: WebhookEnvelope,
  webhookId: string,
  receivedAt: string,
): ParsedSourceEvent {
  const change = parseWith(salesforceChangeEventSchema, envelope.data, 'Salesforce change event');
  const { ChangeEventHeader: header, ...fields } = change.payload;
  const subscription = subscribedChanges[`${header.entityName} ${header.changeType}`];
  if (!subscription) {
    // A real org sends every change of every enabled object; answering 4xx would only make it stop.
    return { ignored: `${header.entityName} ${header.changeType} events are not subscribed` };
  }
  if (header.recordIds.length === 0) {
    throw new SourceEventError(
      'invalid Salesforce change event: payload.ChangeEventHeader.recordIds is empty',
    );
  }
  header.recordIds.forEach((id, i) => {
    if (!salesforceId.safeParse(id).success || !id.startsWith(subscription.keyPrefix)) {
      throw new SourceEventError(
        `invalid Salesforce change event: payload.ChangeEventHeader.recordIds.${i} "${id}" is not an ${header.entityName} id (${subscription.keyPrefix}…)`,
      );
    }
  });
  const occurredAt = new Date(header.commitTimestamp).toISOString();
  const several = header.recordIds.length > 1;
  return {
    events: header.recordIds.map((recordId, i) => ({
      eventId: several ? `${webhookId}:${i}` : webhookId,
      source: 'salesforce',
      kind: subscription.kind,
      recordId,
      occurredAt,
      origin: header.changeOrigin,
      fields: { ...fields },
      changedFields: [...header.changedFields],
      receivedAt,
    })),
  };
}

// ------------------------------------------------------------------------------------------------- SAP

export const SAP_ORDER_EVENT_TYPES = ['sap.salesorder.created', 'sap.salesorder.changed'] as const;

export const sapOrderItemSchema = z.looseObject({
  ITM_NUMBER: nonEmpty,
  MATERIAL: z.string(),
  REQ_QTY: z.number().nonnegative(),
  SALES_UNIT: z.string().optional(),
  SHORT_TEXT: z.string().optional(),
  NET_VALUE: z.number().optional(),
  PLANT: z.string().optional(),
});

/** The `data` of an SAP sales-order event: VBAK header fields under their BAPI names, plus the items. */
export const sapOrderEventSchema = z.looseObject({
  SALESDOCUMENT: z.string().regex(/^[A-Z0-9]{1,10}$/, 'must be an SAP sales document number (VBELN)'),
  CUSTOMER: nonEmpty,
  /** The customer's purchase order number; the coordinator writes the Opportunity id here. May be empty. */
  PURCH_NO_C: z.string(),
  NET_VALUE: z.number(),
  CURRENCY: nonEmpty,
  DOC_TYPE: nonEmpty,
  SALES_ORG: nonEmpty,
  REQ_DATE_H: z.string(),
  CHANGED_AT: isoDateTime,
  CHANGED_BY: nonEmpty,
  CHANGED_FIELDS: z.array(z.string()).optional(),
  items: z.array(sapOrderItemSchema),
});
export type SapOrderEvent = z.infer<typeof sapOrderEventSchema>;

export function parseSapEvent(body: unknown, webhookId: string, receivedAt: string): ParsedSourceEvent {
  const envelope = envelopeOf(body);
  const kind = SAP_ORDER_EVENT_TYPES.find((t) => t === envelope.type);
  if (!kind) {
    throw new SourceEventError(
      `unknown SAP event type "${envelope.type}" (expected ${SAP_ORDER_EVENT_TYPES.join(' or ')})`,
    );
  }
  const data = parseWith(sapOrderEventSchema, envelope.data, `${kind} data`);
  return {
    events: [
      {
        eventId: webhookId,
        source: 'sap',
        kind,
        recordId: data.SALESDOCUMENT,
        occurredAt: toIso(data.CHANGED_AT),
        origin: data.CHANGED_BY,
        fields: { ...data },
        ...(data.CHANGED_FIELDS ? { changedFields: [...data.CHANGED_FIELDS] } : {}),
        receivedAt,
      },
    ],
  };
}

// ------------------------------------------------------------------------------------------- Inventory

export const INVENTORY_STOCK_CHANGED = 'inventory.stock_changed';

const quantity = z.number().int().nonnegative();

/** The `data` of an `inventory.stock_changed` event: one change of the service's change feed. */
export const inventoryStockChangedSchema = z.looseObject({
  sku: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be 1-40 characters of [A-Za-z0-9._-]'),
  warehouse: nonEmpty,
  quantity,
  /** `null` when the change created the SKU. */
  previousQuantity: quantity.nullable(),
  version: z.number().int().positive(),
  changedAt: isoDateTime,
  /** `api`, `warehouse` (or `seed`); who made the change. */
  source: nonEmpty,
});
export type InventoryStockChanged = z.infer<typeof inventoryStockChangedSchema>;

export function parseInventoryEvent(body: unknown, webhookId: string, receivedAt: string): ParsedSourceEvent {
  const envelope = envelopeOf(body);
  if (envelope.type !== INVENTORY_STOCK_CHANGED) {
    throw new SourceEventError(
      `unknown inventory event type "${envelope.type}" (expected ${INVENTORY_STOCK_CHANGED})`,
    );
  }
  const data = parseWith(inventoryStockChangedSchema, envelope.data, `${INVENTORY_STOCK_CHANGED} data`);
  return {
    events: [
      {
        eventId: webhookId,
        source: 'inventory',
        kind: INVENTORY_STOCK_CHANGED,
        recordId: data.sku,
        occurredAt: toIso(data.changedAt),
        origin: data.source,
        fields: { ...data },
        receivedAt,
      },
    ],
  };
}

/** Source timestamps normalised to UTC ISO with milliseconds, so workflows compare like with like. */
function toIso(value: string): string {
  return new Date(value).toISOString();
}
