import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { batchSync } from '../../src/workflows/batch-sync';
import type { SyncSpec } from '../../src/workflows/batch-sync.messages';
import type { reconciliation } from '../../src/workflows/reconciliation';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('reconciliation on a real Temporal server, real clients, simulators', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
  });
  afterAll(async () => {
    await env?.stop();
    await t?.close();
  });

  it('finds each injected kind of drift (missing either side, changed field, duplicate SAP customer), alerts once, and heals in self-heal mode', async () => {
    const prefix = uniquePrefix('recon');
    const queue = taskQueueName(prefix, coordinatorQueue);
    const address = { BillingPostalCode: '80331', BillingCountry: 'DE', BillingCity: 'München' };
    const [a, b] = env.salesforce.seed('Account', [
      { Name: 'Recon Alpha', BillingStreet: 'Ring 1', ...address },
      { Name: 'Recon Beta', BillingStreet: 'Ring 2', ...address },
      { Name: 'Recon Gamma', BillingStreet: 'Ring 3', ...address },
    ]);
    const workers = await env.startWorkers(prefix);
    const spec: SyncSpec = {
      name: `${prefix}-sf2sap`,
      direction: 'salesforce-to-sap',
      object: 'customer',
      pageSize: 50,
      bulkThreshold: 1000,
      lookbackSeconds: 0,
      quotaReserve: 0.9,
      parkCheckSeconds: 1,
      maxHistoryEvents: 2000,
      bulkPollMs: 20,
    };
    const reconcile = async (selfHeal: boolean) =>
      (
        await t.client.workflow.start<typeof reconciliation>('reconciliation', {
          workflowId: `${prefix}-recon-${Math.random()}`,
          taskQueue: queue,
          args: [{ name: 'customers', selfHeal, driftThreshold: 2 }],
        })
      ).result();
    try {
      await (
        await t.client.workflow.start<typeof batchSync>('batchSync', {
          workflowId: `${prefix}-sync`,
          taskQueue: queue,
          args: [{ spec }],
        })
      ).result();
      const clean = await reconcile(false);
      expect(clean.items).toEqual([]);
      expect(clean.buckets.differing).toEqual([]);

      // Inject one of each kind.
      const [d] = env.salesforce.seed('Account', [
        { Name: 'Recon Delta', BillingStreet: 'Ring 4', ...address },
      ]);
      const extra = env.sap.createCustomerAsDialogUser({
        NAME1: 'Recon Extra',
        STRAS: 'Ring 9',
        ORT01: 'München',
        PSTLZ: '80331',
      });
      const alphaNumber = String(env.salesforce.record('Account', a!)!.SAP_Customer_Number__c);
      env.sap.changeCustomerAsDialogUser(alphaNumber, { ORT01: 'Augsburg' });
      const twin = env.sap.createCustomerAsDialogUser({
        NAME1: 'Recon Beta',
        STRAS: 'Ring 2',
        ORT01: 'München',
        PSTLZ: '80331',
      });
      const betaNumber = String(env.salesforce.record('Account', b!)!.SAP_Customer_Number__c);

      const report = await reconcile(false);
      expect(report.counts).toEqual({
        'missing-in-sap': 1,
        'missing-in-salesforce': 1,
        'field-drift': 1,
        'duplicate-in-sap': 1,
      });
      expect(report.items).toEqual(
        expect.arrayContaining([
          { kind: 'missing-in-sap', accountId: d },
          { kind: 'missing-in-salesforce', kunnr: extra.KUNNR },
          {
            kind: 'field-drift',
            accountId: a,
            kunnr: alphaNumber,
            fields: [{ field: 'city', salesforce: 'München', sap: 'Augsburg' }],
          },
          { kind: 'duplicate-in-sap', accountId: b, kunnr: betaNumber, duplicates: [twin.KUNNR] },
        ]),
      );
      expect(report.buckets.differing.length).toBeLessThan(report.buckets.sap + 1);
      expect(report.alerted).toBe(true);
      expect(report.healed).toEqual([]);
      expect(env.sap.customer(alphaNumber)!.ORT01).toBe('Augsburg'); // dry run changed nothing
      const alerts = env.alerts.received.filter((x) =>
        JSON.stringify(x.body).includes('Reconciliation customers'),
      );
      expect(alerts).toHaveLength(1);

      const healed = await reconcile(true);
      expect(healed.healed.map((h) => h.kind).sort()).toEqual([
        'field-drift',
        'missing-in-salesforce',
        'missing-in-sap',
      ]);
      expect(env.sap.customer(alphaNumber)!.ORT01).toBe('München');
      expect(env.salesforce.record('Account', d!)!.SAP_Customer_Number__c).toMatch(/^\d{10}$/);
      expect(env.salesforce.records('Account').some((x) => x.SAP_Customer_Number__c === extra.KUNNR)).toBe(
        true,
      );

      const after = await reconcile(false);
      // Duplicates are an operator's decision: reported, never merged automatically.
      expect(after.items).toEqual([
        { kind: 'duplicate-in-sap', accountId: b, kunnr: betaNumber, duplicates: [twin.KUNNR] },
      ]);
    } finally {
      await workers.stop();
    }
  });
});
