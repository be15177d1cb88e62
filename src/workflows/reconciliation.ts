import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AlertActivities } from '../activities/alerts/activities';
import type { SalesforceBatchActivities } from '../activities/salesforce/batch';
import type { SalesforceReconcileActivities } from '../activities/salesforce/reconcile';
import type { SapBatchActivities } from '../activities/sap/batch';
import type { SapReconcileActivities } from '../activities/sap/reconcile';
import { differingBuckets, diffRows } from '../domain/reconciliation';
import type { DriftItem, DriftKind } from '../domain/reconciliation';
import { alertActivityOptions, batchSalesforceOptions, batchSapOptions } from './shared/policies';
import { BusinessKey, IntegrationFlow } from './shared/search-attributes';
import { activityQueueFor } from './shared/task-queues';

export interface ReconciliationInput {
  name: string;
  /** Repair drift through the normal idempotent activities; false (the default) only reports. */
  selfHeal?: boolean;
  /** More drift items than this raise one alert. */
  driftThreshold: number;
}

export interface ReconciliationReport {
  name: string;
  startedAt: string;
  finishedAt: string;
  selfHeal: boolean;
  buckets: { salesforce: number; sap: number; differing: string[] };
  counts: Record<DriftKind, number>;
  items: DriftItem[];
  healed: { kind: DriftKind; id: string; outcome: string }[];
  alerted: boolean;
}

/**
 * Proves that Salesforce and SAP agree over the cross-reference (Account.SAP_Customer_Number__c = KUNNR):
 * per bucket (last two digits of the customer number) a count and a hash of the mapped fields from each
 * side; rows only for the buckets that differ. Reports Accounts missing in SAP, SAP customers missing in
 * Salesforce, field drift (per field, through the sync's mapping) and duplicate SAP customers for one
 * Account. The report is the run's result, kept with the run. Self-heal (off by default) repairs
 * through the batch sync's own idempotent activities: Salesforce wins field drift and re-creates what SAP
 * lacks; SAP customers without an Account get one; duplicates are left to an operator.
 * See docs/flows/reconciliation.md.
 */
export async function reconciliation(input: ReconciliationInput): Promise<ReconciliationReport> {
  const info = workflowInfo();
  const queue = (s: Parameters<typeof activityQueueFor>[1]) => activityQueueFor(info.taskQueue, s);
  const sf = proxyActivities<SalesforceReconcileActivities & SalesforceBatchActivities>({
    ...batchSalesforceOptions,
    taskQueue: queue('salesforce'),
  });
  const sap = proxyActivities<SapReconcileActivities & SapBatchActivities>({
    ...batchSapOptions,
    heartbeatTimeout: undefined,
    startToCloseTimeout: '30m',
    taskQueue: queue('sap'),
  });
  const alerts = proxyActivities<AlertActivities>({ ...alertActivityOptions, taskQueue: queue('ops') });
  upsertSearchAttributes([
    { key: IntegrationFlow, value: 'reconciliation' },
    { key: BusinessKey, value: input.name },
  ]);
  const startedAt = new Date().toISOString();

  const [sfDigests, sapDigests] = await Promise.all([sf.reconAccountDigests(), sap.reconCustomerDigests()]);
  const differing = differingBuckets(sfDigests, sapDigests);
  let items: DriftItem[] = [];
  if (differing.length > 0) {
    const [sfRows, sapRows] = await Promise.all([
      sf.reconAccountRows({ buckets: differing }),
      sap.reconCustomerRows({ buckets: differing }),
    ]);
    const linked = new Set(sfRows.map((r) => r.kunnr));
    const orphanNames = [...new Set(sapRows.filter((r) => !linked.has(r.kunnr)).map((r) => r.fields.name))];
    const sfByName =
      orphanNames.length > 0 ? await sf.reconAccountRows({ buckets: [], names: orphanNames }) : [];
    items = diffRows(sfRows, sapRows, sfByName);
  }
  const counts: Record<DriftKind, number> = {
    'missing-in-sap': 0,
    'missing-in-salesforce': 0,
    'field-drift': 0,
    'duplicate-in-sap': 0,
  };
  for (const i of items) counts[i.kind] += 1;

  const healed: ReconciliationReport['healed'] = [];
  if (input.selfHeal) {
    const accountIds = items
      .filter((i) => (i.kind === 'field-drift' || i.kind === 'missing-in-sap') && i.accountId)
      .map((i) => i.accountId!);
    if (accountIds.length > 0) {
      const { records } = await sf.readAccountsById({ ids: accountIds });
      const results = await Promise.all(records.map((account) => sap.syncAccountToSap({ account })));
      const links = results
        .filter((r) => r.linkNeeded && r.sapCustomerNumber)
        .map((r) => ({ accountId: r.recordId, sapCustomerNumber: r.sapCustomerNumber! }));
      if (links.length > 0) await sf.writeSapCustomerNumbers({ links });
      for (const r of results) {
        const kind = items.find((i) => i.accountId === r.recordId)!.kind;
        healed.push({ kind, id: r.recordId, outcome: r.outcome });
      }
    }
    const missing = items.filter((i) => i.kind === 'missing-in-salesforce').map((i) => i.kunnr!);
    if (missing.length > 0) {
      const customers = await sap.readCustomers({ customerNumbers: missing });
      const applied = await sf.applySapCustomers({ customers });
      for (const r of applied.results)
        healed.push({ kind: 'missing-in-salesforce', id: r.recordId, outcome: r.outcome });
    }
  }

  const alerted = items.length > input.driftThreshold;
  if (alerted) {
    // One alert per run, with the counts.
    await alerts.sendAlert({
      severity: 'warning',
      title: `Reconciliation ${input.name}: ${items.length} difference(s) between Salesforce and SAP`,
      text: `missing in SAP ${counts['missing-in-sap']}, missing in Salesforce ${counts['missing-in-salesforce']}, field drift ${counts['field-drift']}, duplicate SAP customers ${counts['duplicate-in-sap']} (threshold ${input.driftThreshold}; self-heal ${input.selfHeal ? 'on' : 'off'}). Report: GET /v1/reconciliations/${info.workflowId}`,
      workflowId: info.workflowId,
      runId: info.runId,
      failureType: 'Drift',
    });
  }
  return {
    name: input.name,
    startedAt,
    finishedAt: new Date().toISOString(),
    selfHeal: input.selfHeal ?? false,
    buckets: { salesforce: Object.keys(sfDigests).length, sap: Object.keys(sapDigests).length, differing },
    counts,
    items,
    healed,
    alerted,
  };
}
