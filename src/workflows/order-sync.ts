import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import { ErrorType } from '../domain/error-types';
import {
  changedValues,
  isOwnOrigin,
  ownedBy,
  defaultFieldOwnership,
  fromOpportunity,
  fromSapOrder,
  resolveChange,
  toOpportunityFields,
} from '../domain/order-sync';
import type { OrderField, OrderSource, OrderValues } from '../domain/order-sync';
import type { EntityLoopResult, EventOutcome } from './shared/entity-loop';
import { runEntityLoop, setRecordLink } from './shared/entity-loop';
import type { EntityEvent, EntitySyncInput } from './entity-sync.messages';
import { syncActivityOptions } from './shared/policies';
import { SalesforceId, SapOrderNumber } from './shared/search-attributes';
import { activitiesOf } from './shared/proxies';

const opportunityFields = [
  'Name',
  'StageName',
  'CloseDate',
  'Amount',
  'AccountId',
  'SAP_Material__c',
  'Quantity__c',
  'SAP_Order_Number__c',
];
/** Fields each side can receive from the other. */
const toSapFields: OrderField[] = ['requestedDate', 'quantity'];
const toSalesforceFields: OrderField[] = ['amount', 'requestedDate', 'quantity', 'material'];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const pick = (values: Partial<OrderValues>, fields: OrderField[], unlessKnown: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(values).filter(([k, v]) => fields.includes(k as OrderField) && !same(unlessKnown[k], v)),
  ) as Partial<OrderValues>;

/**
 * One workflow per order (`order:<Opportunity id>`, or `order:sap-<VBELN>` for an order born in SAP):
 * the Salesforce Opportunity and the SAP sales order are two faces of one record, kept in step both ways.
 *
 * - Opportunity won -> SAP sales order (check-before-create by purchase-order number = Opportunity id),
 *   order number and SAP's price written back, `opportunity.sync` published.
 * - Later changes flow both ways, field by field: the ownership table decides who may change a field;
 *   for shared fields the newest change by source timestamp wins, and an older event loses.
 * - Echoes: the workflow remembers what each system holds; an event that only repeats it (typically
 *   the coordinator's own write coming back, recognisable by its origin) changes nothing.
 */
export async function orderSync(input: EntitySyncInput): Promise<EntityLoopResult> {
  const sf = activitiesOf('salesforce', syncActivityOptions);
  const sap = activitiesOf('sap', syncActivityOptions);
  const ops = activitiesOf('ops', syncActivityOptions);
  input.ownMarkers ??= await ops.ownChangeMarkers();
  const ownMarkers = input.ownMarkers;
  const ownership = { ...defaultFieldOwnership, ...input.ownership };
  const ours = (event: EntityEvent) => isOwnOrigin(event.origin, ownMarkers);

  return runEntityLoop(input, orderSync, async (event, ctx) => {
    const { state } = ctx;
    if (!state.links.opportunityId && /^006[A-Za-z0-9]{12}/.test(input.route.businessKey)) {
      state.links.opportunityId = input.route.businessKey;
    }
    const known = (system: OrderSource) => (state.lastWritten[system] ??= {});
    const stamp = (values: Partial<OrderValues>, source: OrderSource, at: string) => {
      for (const field of Object.keys(values)) state.fieldVersions[field] = { source, at };
      state.lastSynced[source] = at;
    };
    const publish = (action: string, values: Partial<OrderValues>) =>
      ctx.publish('opportunity.sync', event, {
        action,
        opportunityId: state.links.opportunityId,
        sapOrderNumber: state.links.sapOrderNumber,
        source: event.source,
        changes: values,
      });

    /**
     * What of an event's values the other system must receive: fields it can take that it does not
     * already hold, filtered by ownership and source time. Or, when nothing is left, the outcome why.
     */
    const decide = (
      e: EntityEvent,
      source: OrderSource,
      values: Partial<OrderValues>,
      fields: OrderField[],
      target: OrderSource,
    ): ReturnType<typeof resolveChange> | EventOutcome => {
      const candidates = pick(values, fields, known(target));
      if (!Object.keys(candidates).length) {
        return { outcome: ours(e) ? 'echo' : 'ignored', detail: `nothing ${target} does not already hold` };
      }
      const decision = resolveChange({
        source,
        at: e.occurredAt,
        values: candidates,
        ownership,
        versions: state.fieldVersions,
      });
      if (!Object.keys(decision.accept).length) {
        return {
          outcome: 'stale',
          detail: decision.rejected.map((r) => `${r.field}: ${r.reason}`).join('; '),
        };
      }
      return decision;
    };

    if (event.kind === 'opportunity.updated') return fromSalesforce(event);
    if (event.kind === 'sap.salesorder.created' || event.kind === 'sap.salesorder.changed')
      return fromSap(event);
    return { outcome: 'ignored', detail: `orderSync does not handle ${event.kind}` };

    async function fromSalesforce(e: EntityEvent): Promise<EventOutcome> {
      const opportunityId = e.recordId;
      state.links.opportunityId = opportunityId;
      setRecordLink(SalesforceId, opportunityId);
      const changed = changedValues(fromOpportunity(e.fields), 'salesforce', e.changedFields);
      // The coordinator's own write coming back says nothing new about the fields it wrote: never
      // propagate those (two quick edits would otherwise ping-pong between stale echoes), only what
      // Salesforce itself owns.
      const values = ours(e) ? ownedBy('salesforce', changed, ownership) : changed;
      if (ours(e) && !Object.keys(values).length) {
        return { outcome: 'echo', detail: 'the coordinator’s own write to Salesforce' };
      }
      const sfKnown = known('salesforce');
      Object.assign(sfKnown, values);

      if (!state.links.sapOrderNumber) {
        const opp = await sf.getRecord({ type: 'Opportunity', id: opportunityId, fields: opportunityFields });
        if (!opp) return { outcome: 'ignored', detail: 'the Opportunity no longer exists' };
        const current = fromOpportunity(opp);
        Object.assign(sfKnown, current);
        if (typeof opp.SAP_Order_Number__c === 'string' && opp.SAP_Order_Number__c) {
          state.links.sapOrderNumber = opp.SAP_Order_Number__c;
        } else {
          if (current.stage !== 'Closed Won')
            return { outcome: 'ignored', detail: 'no SAP order until the Opportunity is Closed Won' };
          return createOrder(e, opportunityId, opp, current);
        }
      }

      const decision = decide(e, 'salesforce', values, toSapFields, 'sap');
      if ('outcome' in decision) return decision;
      await sap.changeSalesOrder({
        salesDocument: state.links.sapOrderNumber,
        ...(decision.accept.requestedDate !== undefined
          ? { requestedDate: decision.accept.requestedDate }
          : {}),
        ...(decision.accept.quantity !== undefined ? { quantity: decision.accept.quantity } : {}),
      });
      Object.assign(known('sap'), decision.accept);
      stamp(decision.accept, 'salesforce', e.occurredAt);
      await publish('updated-in-sap', decision.accept);
      return {
        outcome: 'applied',
        detail: `SAP order ${state.links.sapOrderNumber}: ${Object.keys(decision.accept).join(', ')}${rejectedNote(decision.rejected)}`,
      };
    }

    async function createOrder(
      e: EntityEvent,
      opportunityId: string,
      opp: Record<string, unknown>,
      current: Partial<OrderValues>,
    ): Promise<EventOutcome> {
      if (!current.material || !current.quantity) {
        throw ApplicationFailure.create({
          type: ErrorType.InvalidInput,
          nonRetryable: true,
          message: `Opportunity ${opportunityId} is Closed Won but has no SAP_Material__c and Quantity__c to order`,
        });
      }
      const account =
        typeof opp.AccountId === 'string' && opp.AccountId
          ? await sf.getRecord({ type: 'Account', id: opp.AccountId, fields: ['SAP_Customer_Number__c'] })
          : undefined;
      const customerNumber =
        typeof account?.SAP_Customer_Number__c === 'string' ? account.SAP_Customer_Number__c : '';
      if (!customerNumber) {
        throw ApplicationFailure.create({
          type: ErrorType.InvalidInput,
          nonRetryable: true,
          message: `Opportunity ${opportunityId}: its Account has no SAP customer number yet (create the customer first)`,
        });
      }
      const order =
        (await sap.findSalesOrder({ customerNumber, purchaseOrder: opportunityId })) ??
        (await sap.createSalesOrder({
          customerNumber,
          purchaseOrder: opportunityId,
          material: current.material,
          quantity: current.quantity,
          ...(current.requestedDate ? { requestedDate: current.requestedDate } : {}),
        }));
      await sf.updateRecord({
        type: 'Opportunity',
        id: opportunityId,
        fields: { SAP_Order_Number__c: order.salesDocument, Amount: order.netValue },
      });
      state.links.sapOrderNumber = order.salesDocument;
      state.links.sapCustomerNumber = customerNumber;
      const sapValues: Partial<OrderValues> = {
        material: order.material,
        quantity: order.quantity,
        amount: order.netValue,
        requestedDate: order.requestedDate || current.requestedDate,
      };
      Object.assign(known('sap'), sapValues);
      Object.assign(known('salesforce'), { amount: order.netValue });
      stamp(current, 'salesforce', e.occurredAt);
      stamp({ amount: order.netValue }, 'sap', e.occurredAt);
      upsertSearchAttributes([{ key: SapOrderNumber, value: order.salesDocument }]);
      await publish('created-in-sap', { ...current, amount: order.netValue });
      return {
        outcome: 'applied',
        detail: `created SAP order ${order.salesDocument} for customer ${customerNumber}`,
      };
    }

    async function fromSap(e: EntityEvent): Promise<EventOutcome> {
      const salesDocument = e.recordId;
      state.links.sapOrderNumber = salesDocument;
      setRecordLink(SapOrderNumber, salesDocument);
      const all = fromSapOrder(e.fields);
      const changed = e.kind === 'sap.salesorder.created' ? all : changedValues(all, 'sap', e.changedFields);
      if (!state.links.opportunityId) {
        Object.assign(known('sap'), changed);
        return createOpportunity(e, all);
      }
      // Our own change coming back from SAP: only what SAP owns (the price it computed) can be news.
      const values = ours(e) ? ownedBy('sap', changed, ownership) : changed;
      if (ours(e) && !Object.keys(values).length) {
        return { outcome: 'echo', detail: 'the coordinator’s own write to SAP' };
      }
      Object.assign(known('sap'), values);

      const decision = decide(e, 'sap', values, toSalesforceFields, 'salesforce');
      if ('outcome' in decision) return decision;
      await sf.updateRecord({
        type: 'Opportunity',
        id: state.links.opportunityId,
        fields: toOpportunityFields(decision.accept),
      });
      Object.assign(known('salesforce'), decision.accept);
      stamp(decision.accept, 'sap', e.occurredAt);
      await publish('updated-in-salesforce', decision.accept);
      return {
        outcome: 'applied',
        detail: `Opportunity ${state.links.opportunityId}: ${Object.keys(decision.accept).join(', ')}${rejectedNote(decision.rejected)}`,
      };
    }

    /** An order entered in SAP: its Opportunity is created (or found) and linked back via PURCH_NO_C. */
    async function createOpportunity(e: EntityEvent, values: Partial<OrderValues>): Promise<EventOutcome> {
      const customerNumber = typeof e.fields.CUSTOMER === 'string' ? e.fields.CUSTOMER : '';
      const account = customerNumber
        ? await sf.findAccountBySapCustomerNumber({ sapCustomerNumber: customerNumber })
        : undefined;
      if (!account) {
        throw ApplicationFailure.create({
          type: ErrorType.InvalidInput,
          nonRetryable: true,
          message: `SAP order ${e.recordId}: no Salesforce Account has SAP customer number ${customerNumber || '(none)'}`,
        });
      }
      const opp = await sf.upsertOpportunityBySapOrder({
        sapOrderNumber: e.recordId,
        fields: {
          Name: `SAP order ${e.recordId.replace(/^0+/, '')}`,
          StageName: 'Closed Won',
          CloseDate: values.requestedDate ?? e.occurredAt.slice(0, 10),
          AccountId: account.id,
          // CloseDate is set above (with a fallback); the other SAP values map as usual.
          ...toOpportunityFields(withoutRequestedDate(values)),
        },
      });
      state.links.opportunityId = opp.id;
      state.links.sapCustomerNumber = customerNumber;
      // Future events of this order then reach the Opportunity's workflow (order:<Opportunity id>).
      await sap.changeSalesOrder({ salesDocument: e.recordId, purchaseOrder: opp.id });
      Object.assign(known('salesforce'), values);
      stamp(values, 'sap', e.occurredAt);
      upsertSearchAttributes([{ key: SalesforceId, value: opp.id }]);
      await publish('created-in-salesforce', values);
      return {
        outcome: 'applied',
        detail: `${opp.created ? 'created' : 'updated'} Opportunity ${opp.id} for SAP order ${e.recordId}`,
      };
    }
  });
}

function rejectedNote(rejected: { field: string; reason: string }[]): string {
  return rejected.length ? ` (not applied: ${rejected.map((r) => `${r.field} ${r.reason}`).join('; ')})` : '';
}

function withoutRequestedDate(values: Partial<OrderValues>): Partial<OrderValues> {
  const rest = { ...values };
  delete rest.requestedDate;
  return rest;
}
