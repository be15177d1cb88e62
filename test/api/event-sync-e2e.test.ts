import { Connection as SalesforceConnection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventorySimulator } from '../../src/simulators/inventory';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { getEntityStateQuery } from '../../src/workflows/entity-sync.messages';
import { startApi } from '../support/api';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

const secret = 'whsec_ZGV2LXNvdXJjZS1ldmVudHMtc2VjcmV0LTAxMjM0NTY=';

/**
 * Event sync end to end, every hop real: a "user" changes a record in a simulator through its own API
 * (jsforce for Salesforce, the SAP GUI stand-in, the warehouse), the simulator sends its signed change
 * event to the API's ingress, the entity workflow applies it through the real clients, and the other
 * simulator ends up changed — while the coordinator's own writes come back as events and are dropped.
 */
describe('event sync end to end: simulators -> /webhooks -> entity workflows -> simulators', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  const inventory = createInventorySimulator();
  let inventoryRun: RunningSimulator;
  let user: SalesforceConnection;
  const prefix = uniquePrefix('e2e');

  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    inventoryRun = await inventory.start({ port: 0 });
    workers = await env.startWorkers(prefix);
    api = await startApi(t.client, {
      taskQueuePrefix: prefix,
      webhooks: {
        secrets: { salesforce: secret, sap: secret, inventory: secret },
        idleTimeout: '5m',
        // The simulators number records the same way in every test file: keep this file's workflows apart.
        workflowIdPrefix: `${prefix}:`,
      },
    });
    for (const [sim, source] of [
      [env.salesforce, 'salesforce'],
      [env.sap, 'sap'],
      [inventory, 'inventory'],
    ] as const) {
      sim.configureEvents({ url: `${api.baseUrl}/webhooks/${source}`, secret });
    }
    // A Salesforce user: logs in with the password flow, sends no Sforce-Call-Options client.
    const sf = env.config.SALESFORCE_LOGIN_URL;
    user = new SalesforceConnection({
      loginUrl: sf,
      version: '62.0',
      oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: sf },
    });
    await user.login('integration@example.com', 'dev-password');
  });
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await inventoryRun?.stop();
    await env?.stop();
    await t?.close();
  });

  const entityState = (workflowId: string) =>
    t.client.workflow.getHandle(workflowId).query(getEntityStateQuery);

  it('an Account, a won Opportunity, an SAP-side change and a stock change each reach the other system once', async () => {
    // 1. A user creates an Account in Salesforce: the SAP customer is created and linked.
    const name = `Fairchild ${prefix.slice(-8)}`;
    const account = await user.sobject('Account').create({
      Name: name,
      BillingStreet: '1 Charleston Rd',
      BillingCity: 'Mountain View',
      BillingPostalCode: '94043',
      BillingCountry: 'US',
    });
    const sapCustomer = await waitFor('the SAP customer number on the Account', async () => {
      const a = (await user.sobject('Account').retrieve(account.id!)) as {
        SAP_Customer_Number__c: string | null;
      };
      return a.SAP_Customer_Number__c ?? undefined;
    });
    expect(env.sap.customer(sapCustomer)).toMatchObject({ NAME1: name, ORT01: 'Mountain View', LAND1: 'US' });

    // 2. The user wins an Opportunity: the SAP order is created, its number and price come back.
    const opp = await user.sobject('Opportunity').create({
      Name: `${name} engines`,
      AccountId: account.id,
      StageName: 'Negotiation/Review',
      CloseDate: '2027-02-01',
      SAP_Material__c: 'MAT-2000',
      Quantity__c: 4,
    });
    await user.sobject('Opportunity').update({ Id: opp.id!, StageName: 'Closed Won' });
    const vbeln = await waitFor('the SAP order number on the Opportunity', async () => {
      const o = (await user.sobject('Opportunity').retrieve(opp.id!)) as {
        SAP_Order_Number__c: string | null;
      };
      return o.SAP_Order_Number__c ?? undefined;
    });
    const order = env.sap.order(vbeln)!;
    expect(order).toMatchObject({ KUNNR: sapCustomer, BSTKD: opp.id, VDATU: '2027-02-01' });
    expect(order.items[0]).toMatchObject({ MATNR: 'MAT-2000', KWMENG: 4 });

    // 3. Someone changes the delivery date in SAP: the Opportunity's CloseDate follows.
    env.sap.changeOrderAsDialogUser(vbeln, { REQ_DATE_H: '2027-03-15' });
    await waitFor('CloseDate from SAP', async () => {
      const o = (await user.sobject('Opportunity').retrieve(opp.id!)) as { CloseDate: string };
      return o.CloseDate === '2027-03-15';
    });

    // Every write the coordinator made came back from its system as an event, and was dropped.
    const workflowId = `${prefix}:order:${opp.id}`;
    const state = await waitFor('the echoes to be processed', async () => {
      const s = await entityState(workflowId);
      return s.recent.filter((r) => r.outcome === 'echo').length >= 3 && s.pending === 0 ? s : undefined;
    });
    const outcomes = state.recent.map((r) => `${r.kind}:${r.outcome}`);
    expect(outcomes.filter((o) => o.endsWith(':applied'))).toEqual([
      'opportunity.updated:applied', // Closed Won -> SAP order
      'sap.salesorder.changed:applied', // SAP date -> Salesforce
    ]);
    expect(outcomes.filter((o) => o.endsWith(':failed'))).toEqual([]);
    // Exactly one order change reached SAP: none caused by an echo.
    expect(env.sap.orders().filter((o) => o.BSTKD === opp.id)).toHaveLength(1);

    // 4. The warehouse changes stock of a material an open Opportunity sells.
    const open = await user.sobject('Opportunity').create({
      Name: `${name} spares`,
      AccountId: account.id,
      StageName: 'Prospecting',
      CloseDate: '2027-05-01',
      SAP_Material__c: 'MAT-3000',
      Quantity__c: 1,
    });
    inventory.setStock('MAT-3000', 64, { source: 'warehouse' });
    await waitFor('Stock_Available__c from the warehouse', async () => {
      const o = (await user.sobject('Opportunity').retrieve(open.id!)) as {
        Stock_Available__c: number | null;
      };
      return o.Stock_Available__c === 64;
    });

    // Subscribers heard about it, signed.
    await env.webhooks.waitFor(
      (d) => d.type === 'opportunity.sync' && (d.body as any).data.opportunityId === opp.id,
    );
    await env.webhooks.waitFor(
      (d) => d.type === 'inventory.changed' && (d.body as any).data.sku === 'MAT-3000',
    );
    await env.webhooks.waitFor(
      (d) => d.type === 'account.synced' && (d.body as any).data.salesforceAccountId === account.id,
    );
  });
});
