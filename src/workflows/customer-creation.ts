import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BillingLocalActivities } from '../activities/billing/activities';
import type { SalesforceActivities } from '../activities/salesforce/activities';
import type { SapActivities } from '../activities/sap/activities';
import { toCustomerCreatedEvent, toSalesforceAccount, toSapCustomerMatch } from '../domain/customer-mapping';
import { toBillingCustomer } from '../domain/billing';
import { customerValidation } from './shared/customer-validation';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { ErrorType } from '../domain/error-types';
import { temporalRunUrl } from '../lib/links';
import { countCompensation } from '../observability/workflow-metrics';
import { getStepQuery } from './shared/step.messages';
import type {
  CustomerCreationInput,
  CustomerCreationResult,
  CustomerCreationStep,
  NotificationOutcome,
} from './customer-creation.messages';
import { failureSummary } from '../lib/failures';
import {
  alertActivityOptions,
  billingActivityOptions,
  compensationRetry,
  salesforceActivityOptions,
  salesforceLookupOptions,
  sapActivityOptions,
  sapLookupOptions,
} from './shared/policies';
import { alertQuietly } from './shared/alerts';
import { activitiesOf } from './shared/proxies';
import { publishEvent } from './shared/publish-event';
import { IntegrationStep, SalesforceId, SapCustomerNumber } from './shared/search-attributes';
import { activityQueueFor } from './shared/task-queues';

/**
 * Customer creation: Salesforce Account -> SAP customer -> billing customer (when billing is
 * configured) -> cross-reference -> `customer.created`.
 *
 * A saga. Before each step that creates something, the step's undo is registered, so even a create
 * whose answer was lost (timeout, worker crash, cancellation) is undone: the undo finds the record by
 * its business key when it has no id. Only what this run created is undone — an Account or SAP
 * customer that existed before the run is linked, updated at most, and never deleted. On a permanent
 * failure or a cancellation, the undos run in reverse order in a non-cancellable scope, an alert is
 * raised, and the run ends FAILED (with the original failure as cause) or CANCELED.
 *
 * The notification is outside the saga: the customer exists in both systems by then, and a webhook
 * subscriber that is down must not undo it. Failed deliveries are reported in the result, alerted, and
 * can be redriven (`POST /v1/runs/{id}/redrive`).
 */
export async function customerCreation(input: CustomerCreationInput): Promise<CustomerCreationResult> {
  const info = workflowInfo();
  const routes = input.routes ?? {};
  const onWorkflowQueue = (system: keyof typeof routes) => routes[system] === 'workflow-queue';
  // Search-attribute changes are collected and sent as one upsert just before the workflow waits
  // (the next activity, or the end): one upsert command per workflow task instead of one per change.
  // Runs started with `routes` (the API sets them) were always run this way, so their input decides and
  // they pay for no patch marker; other runs decide by patch, so histories recorded before keep
  // replaying their per-change upserts.
  const batchUpserts = input.routes !== undefined || patched('customer-creation-one-upsert-per-task');
  const pendingAttributes = new Map<string, SearchAttributeUpdatePair>();
  const setAttribute = (pair: SearchAttributeUpdatePair) => {
    if (!batchUpserts) return upsertSearchAttributes([pair]);
    pendingAttributes.set(pair.key.name, pair);
  };
  const flushAttributes = () => {
    if (pendingAttributes.size === 0) return;
    upsertSearchAttributes([...pendingAttributes.values()]);
    pendingAttributes.clear();
  };
  /**
   * Activity proxies that send the collected search attributes before scheduling. Local activities do
   * not: they run inside the workflow task, whose one upsert goes out when the task completes.
   */
  const flushing = <T extends object>(proxy: T): T =>
    new Proxy(proxy, {
      get: (target, name) => {
        const fn = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          flushAttributes();
          return fn(...args);
        };
      },
    });
  const undo = { retry: compensationRetry };
  const sf = flushing(activitiesOf('salesforce', salesforceActivityOptions, routes.salesforce));
  const sap = flushing(activitiesOf('sap', sapActivityOptions, routes.sap));
  // Read-only lookups of a system without a binding rate limit run as local activities: no task, no
  // queue, recorded as one marker in the workflow task that needed them.
  const sfLookup = onWorkflowQueue('salesforce')
    ? proxyLocalActivities<Pick<SalesforceActivities, 'findAccountByReference'>>(salesforceLookupOptions)
    : sf;
  const sapLookup = onWorkflowQueue('sap')
    ? proxyLocalActivities<Pick<SapActivities, 'findCustomer'>>(sapLookupOptions)
    : sap;
  const sfUndo = flushing(
    activitiesOf('salesforce', { ...salesforceActivityOptions, ...undo }, routes.salesforce),
  );
  const sapUndo = flushing(activitiesOf('sap', { ...sapActivityOptions, ...undo }, routes.sap));
  const ops = flushing(activitiesOf('ops', alertActivityOptions));
  const billing = flushing(activitiesOf('billing', billingActivityOptions, routes.billing));
  const billingUndo = flushing(
    activitiesOf('billing', { ...billingActivityOptions, ...undo }, routes.billing),
  );
  const billingConfig = proxyLocalActivities<BillingLocalActivities>({ startToCloseTimeout: '5s' });

  let step: CustomerCreationStep = 'validating';
  setHandler(getStepQuery, () => step);
  const enter = (next: CustomerCreationStep) => {
    step = next;
    setAttribute({ key: IntegrationStep, value: next });
  };
  const webUiUrl = input.temporalUiUrl
    ? temporalRunUrl(input.temporalUiUrl, info.namespace, info.workflowId, info.runId)
    : undefined;
  const alert = (severity: 'warning' | 'critical', title: string, text: string, failureType?: string) =>
    alertQuietly(ops, {
      severity,
      title,
      text,
      workflowId: info.workflowId,
      runId: info.runId,
      webUiUrl,
      failureType,
    });

  // The API validated and normalised the customer before starting (and says so); a run started from
  // the CLI or the Web UI may not have been. Validation issues no commands, so skipping it leaves the
  // history as it was: runs recorded before replay the same either way.
  const customer = input.customerValidated ? input.customer : validCustomer(input.customer);
  const reference = customer.reference;
  const match = toSapCustomerMatch(customer);

  /** Each undo reports whether it found something to undo (a lost create may have created nothing). */
  const undos: { name: string; run: () => Promise<boolean> }[] = [];
  let salesforceId: string | undefined;
  let sapCustomerNumber: string | undefined;
  let salesforceAccountCreated = false;
  let sapCustomerCreated = false;
  let billingCustomerId: string | undefined;
  let billingCustomerCreated: boolean | undefined;
  let failedStep: CustomerCreationStep = 'validating';

  try {
    enter('salesforce-account');
    failedStep = step;
    const existingAccount = await sfLookup.findAccountByReference({ reference });
    if (!existingAccount) {
      undos.unshift({
        name: 'delete the Salesforce Account',
        run: async () => (await sfUndo.deleteAccount({ accountId: salesforceId, reference })).deleted,
      });
    }
    const account = await sf.upsertAccount({ reference, fields: toSalesforceAccount(customer) });
    salesforceId = account.id;
    salesforceAccountCreated = !existingAccount;
    if (!existingAccount && account.attempt === 1 && !account.created) {
      // Our first and only upsert found an Account: someone else created it after our lookup. It is
      // not ours to delete. (After a retry the upsert cannot tell, and the Account counts as ours.)
      undos.shift();
      salesforceAccountCreated = false;
    }
    setAttribute({ key: SalesforceId, value: salesforceId });

    enter('sap-customer');
    failedStep = step;
    if (existingAccount?.sapCustomerNumber) {
      // A previous integration already linked this Account to an SAP customer.
      sapCustomerNumber = existingAccount.sapCustomerNumber;
    } else {
      const existingCustomer = await sapLookup.findCustomer({ match });
      if (existingCustomer.customerNumber) {
        sapCustomerNumber = existingCustomer.customerNumber;
      } else {
        undos.unshift({
          name: 'flag the SAP customer for deletion',
          run: async () =>
            (await sapUndo.blockCustomer({ customerNumber: sapCustomerNumber, match })).blocked,
        });
        const created = await sap.createCustomer({ customer, match });
        sapCustomerNumber = created.customerNumber;
        sapCustomerCreated = true;
      }
    }
    setAttribute({ key: SapCustomerNumber, value: sapCustomerNumber });

    // Billing joined the saga later: runs recorded before it carry no patch marker and replay without
    // it. Whether this deployment bills is worker configuration, read once and kept in history.
    if (
      (input.routes !== undefined || patched('billing-customer-step')) &&
      (await billingConfig.billingConfigured({})).configured
    ) {
      enter('billing-customer');
      failedStep = step;
      const existingBilling = await billing.findBillingCustomer({ reference });
      if (existingBilling.customerId) {
        billingCustomerId = existingBilling.customerId;
        billingCustomerCreated = false;
      } else {
        undos.unshift({
          name: 'delete the billing customer',
          run: async () =>
            (await billingUndo.deleteBillingCustomer({ customerId: billingCustomerId, reference })).deleted,
        });
        const created = await billing.createBillingCustomer({
          customer: toBillingCustomer(customer, { salesforceAccountId: salesforceId, sapCustomerNumber }),
          // Per run, not per workflow id: a redrive after a compensated run must not be handed the
          // customer that run created and deleted again.
          idempotencyKey: `${info.workflowId}/${info.runId}/billing-customer`,
        });
        billingCustomerId = created.customerId;
        billingCustomerCreated = true;
      }
    }

    enter('salesforce-writeback');
    failedStep = step;
    await sf.setAccountSapCustomerNumber({ accountId: salesforceId, sapCustomerNumber });
  } catch (err) {
    const cancelled = isCancellation(err);
    const cause = failureSummary(err);
    enter('compensating');
    const undone: string[] = [];
    const notUndone: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const undo of undos) {
        try {
          if (await undo.run()) undone.push(undo.name);
        } catch (undoErr) {
          log.error('compensation failed', { compensation: undo.name, error: failureSummary(undoErr) });
          notUndone.push(undo.name);
        }
      }
      if (undone.length || notUndone.length) countCompensation(info.workflowType, notUndone.length === 0);
      const summary = `${cancelled ? 'cancelled' : `failed at ${failedStep}: ${cause.message}`}. Undone: ${undone.join(', ') || 'nothing'}${notUndone.length ? `. NOT undone (needs an operator): ${notUndone.join(', ')}` : ''}`;
      await alert(
        notUndone.length ? 'critical' : 'warning',
        `Customer ${reference} was not created`,
        summary,
        cancelled ? 'Cancelled' : cause.type,
      );
    });
    enter(cancelled ? 'cancelled' : 'failed');
    flushAttributes();
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      type: cause.type,
      nonRetryable: true,
      message: `customer ${reference} was not created: ${cause.message}`,
      details: [
        {
          failedStep,
          undone,
          notUndone,
          salesforceId,
          sapCustomerNumber,
          ...(billingCustomerId ? { billingCustomerId } : {}),
        },
      ],
      cause: err as Error,
    });
  }

  enter('notification');
  const event = toCustomerCreatedEvent(customer, {
    salesforceAccountId: salesforceId,
    sapCustomerNumber,
    ...(billingCustomerId ? { billingCustomerId } : {}),
  });
  const occurredAt = new Date().toISOString(); // workflow time: fixed in history, so retries send the same body
  // A cancellation here stops the notification but undoes nothing: the customer exists in both
  // systems. The run ends CANCELED with an alert, and a redrive (a new run) links the existing records
  // and delivers the event.
  const cancelledDuringNotification = async (err: unknown): Promise<never> => {
    enter('cancelled');
    await CancellationScope.nonCancellable(() =>
      alert(
        'warning',
        `customer.created for ${reference} was cancelled`,
        `The customer exists (Salesforce ${salesforceId}, SAP ${sapCustomerNumber}); the run was cancelled while notifying subscribers, so they may not have the event. Redrive with POST /v1/runs/${info.workflowId}/redrive.`,
        'Cancelled',
      ),
    );
    flushAttributes();
    throw err;
  };
  let deliveries: Awaited<ReturnType<typeof publishEvent>>;
  try {
    flushAttributes();
    deliveries = await publishEvent(
      onWorkflowQueue('webhooks') ? info.taskQueue : activityQueueFor(info.taskQueue, 'webhooks'),
      { sourceKey: info.workflowId, type: event.type, data: event.data, occurredAt },
      input.notificationRetry,
      { localLookup: input.routes !== undefined },
    );
  } catch (err) {
    if (isCancellation(err)) return cancelledDuringNotification(err);
    throw err;
  }
  if (CancellationScope.current().consideredCancelled) {
    return cancelledDuringNotification(new CancelledFailure('cancelled while notifying subscribers'));
  }
  const failed = deliveries.filter((d) => d.status === 'failed');
  const notification: NotificationOutcome = {
    status: deliveries.length === 0 ? 'no-subscribers' : failed.length ? 'failed' : 'delivered',
    eventType: event.type,
    occurredAt,
    deliveries,
    data: event.data,
  };
  if (failed.length) {
    await alert(
      'warning',
      `customer.created for ${reference} was not delivered`,
      `The customer exists (Salesforce ${salesforceId}, SAP ${sapCustomerNumber}) but ${failed
        .map((d) => `${d.subscriber} (${d.error?.type}: ${d.error?.message})`)
        .join(', ')} did not accept the event. Redrive with POST /v1/runs/${info.workflowId}/redrive.`,
      failed[0]?.error?.type,
    );
  }
  enter('completed');
  flushAttributes();
  return {
    salesforceId,
    sapCustomerNumber,
    salesforceAccountCreated,
    sapCustomerCreated,
    ...(billingCustomerId ? { billingCustomerId, billingCustomerCreated } : {}),
    notification,
  };
}

/** The customer validated and normalised by the customer schema, or a non-retryable InvalidInput failure. */
function validCustomer(raw: unknown): CustomerCreationInput['customer'] {
  const parsed = customerValidation().customerSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: `invalid customer: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    });
  }
  return parsed.data;
}
