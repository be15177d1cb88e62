import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import { toSapCustomerMatch } from '../domain/customer-mapping';
import { ErrorType } from '../domain/error-types';
import { isOwnOrigin } from '../domain/order-sync';
import type { EntitySyncInput } from './entity-sync.messages';
import { runEntityLoop, setRecordLink } from './shared/entity-loop';
import type { EntityLoopResult } from './shared/entity-loop';
import { syncActivityOptions } from './shared/policies';
import { SalesforceId, SapCustomerNumber } from './shared/search-attributes';
import { activitiesOf } from './shared/proxies';
import { customerValidation } from './shared/customer-validation';

const accountFields = [
  'Name',
  'Phone',
  'BillingStreet',
  'BillingCity',
  'BillingPostalCode',
  'BillingCountry',
  'SAP_Customer_Number__c',
];

/**
 * One workflow per Salesforce Account (`account:<id>`): when a user creates an Account in Salesforce,
 * the matching SAP customer is created with the customer flow's activities (check-before-create,
 * BAPI + commit in one session) and its number written back to the Account. Accounts the coordinator
 * created itself (the customer flow) come back as echoes and are dropped.
 */
export async function accountSync(input: EntitySyncInput): Promise<EntityLoopResult> {
  const sf = activitiesOf('salesforce', syncActivityOptions);
  const sap = activitiesOf('sap', syncActivityOptions);
  const ops = activitiesOf('ops', syncActivityOptions);
  input.ownMarkers ??= await ops.ownChangeMarkers();
  const ownMarkers = input.ownMarkers;

  return runEntityLoop(input, accountSync, async (event, ctx) => {
    if (event.kind !== 'account.created')
      return { outcome: 'ignored', detail: `accountSync does not handle ${event.kind}` };
    if (isOwnOrigin(event.origin, ownMarkers)) {
      return { outcome: 'echo', detail: 'the coordinator created this Account' };
    }
    const account = await sf.getRecord({ type: 'Account', id: event.recordId, fields: accountFields });
    if (!account) return { outcome: 'ignored', detail: 'the Account no longer exists' };
    setRecordLink(SalesforceId, event.recordId);
    const linked = typeof account.SAP_Customer_Number__c === 'string' ? account.SAP_Customer_Number__c : '';
    if (linked) {
      ctx.state.links.sapCustomerNumber = linked;
      return { outcome: 'ignored', detail: `already linked to SAP customer ${linked}` };
    }
    const mapped = customerValidation().accountToSapCustomer(account);
    if (!mapped.ok) {
      throw ApplicationFailure.create({
        type: ErrorType.InvalidInput,
        nonRetryable: true,
        message: `Account ${event.recordId} cannot become an SAP customer: ${mapped.problems.join('; ')}`,
      });
    }
    const match = toSapCustomerMatch(mapped.source);
    const existing = await sap.findCustomer({ match });
    const sapCustomerNumber =
      existing.customerNumber ??
      (await sap.createCustomer({ customer: mapped.source, match })).customerNumber;
    await sf.setAccountSapCustomerNumber({ accountId: event.recordId, sapCustomerNumber });
    ctx.state.links.sapCustomerNumber = sapCustomerNumber;
    ctx.state.lastSynced.salesforce = event.occurredAt;
    upsertSearchAttributes([{ key: SapCustomerNumber, value: sapCustomerNumber }]);
    await ctx.publish('account.synced', event, {
      salesforceAccountId: event.recordId,
      sapCustomerNumber,
      sapCustomerCreated: !existing.customerNumber,
    });
    return {
      outcome: 'applied',
      detail: `${existing.customerNumber ? 'linked' : 'created'} SAP customer ${sapCustomerNumber}`,
    };
  });
}
