import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { customerCreation } from '../../src/workflows/customer-creation';
import { customerCreationStartOptions } from '../../src/workflows/customer-creation.messages';
import type { CustomerCreationInput } from '../../src/workflows/customer-creation.messages';
import { getStepQuery } from '../../src/workflows/shared/step.messages';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { domainCustomer } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('customerCreation saga on a real Temporal server, real clients, simulators', () => {
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

  async function run(
    prefix: string,
    customer: ReturnType<typeof domainCustomer>,
    extra: Partial<CustomerCreationInput> = {},
  ) {
    return t.client.workflow.start<typeof customerCreation>('customerCreation', {
      ...customerCreationStartOptions(customer, taskQueueName(prefix, coordinatorQueue)),
      args: [{ customer, temporalUiUrl: 'http://127.0.0.1:8233', ...extra }],
    });
  }
  /** The workflow ids visibility returns for `query`, once it returns any. */
  const runsFound = (query: string) =>
    waitFor('the run in visibility', async () => {
      const ids: string[] = [];
      for await (const wf of t.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.length ? ids : undefined;
    });
  const accountsFor = (reference: string) =>
    env.salesforce.records('Account').filter((a) => a.Integration_Id__c === reference);
  const sapCustomersNamed = (name: string) => env.sap.customers().filter((c) => c.NAME1 === name);

  it('creates the Account and the SAP customer, links them, and publishes one signed customer.created', async () => {
    const prefix = uniquePrefix('happy');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('happy');
      const handle = await run(prefix, customer);
      const result = await handle.result();

      expect(result).toMatchObject({
        salesforceId: expect.stringMatching(/^001[A-Za-z0-9]{15}$/),
        sapCustomerNumber: expect.stringMatching(/^\d{10}$/),
        salesforceAccountCreated: true,
        sapCustomerCreated: true,
        notification: { status: 'delivered', eventType: 'customer.created' },
      });
      const [account, ...moreAccounts] = accountsFor(customer.reference);
      expect(moreAccounts).toHaveLength(0);
      expect(account).toMatchObject({
        Id: result.salesforceId,
        Name: customer.company,
        SAP_Customer_Number__c: result.sapCustomerNumber,
        BillingCountry: 'GB',
      });
      const sapCustomer = env.sap.customer(result.sapCustomerNumber);
      expect(sapCustomer).toMatchObject({
        NAME1: customer.company,
        NAME2: 'Ada Lovelace',
        LAND1: 'GB',
        PSTLZ: 'SW1Y 4JH',
        LOEVM: '',
      });

      const delivery = await env.webhooks.waitFor(
        (d) => d.type === 'customer.created' && (d.body as any)?.data?.reference === customer.reference,
      );
      expect(delivery.verified).toBe(true);
      expect(delivery.duplicate).toBe(false);
      expect(JSON.parse(delivery.rawBody)).toMatchObject({
        type: 'customer.created',
        data: { salesforceAccountId: result.salesforceId, sapCustomerNumber: result.sapCustomerNumber },
      });

      // Operators find the run by business key and by either system's id.
      const query = `IntegrationFlow = 'customer-creation' AND BusinessKey = '${customer.reference}' AND SalesforceId = '${result.salesforceId}' AND SapCustomerNumber = '${result.sapCustomerNumber}'`;
      expect(await runsFound(query)).toEqual([handle.workflowId]);
    });
  });

  it('routed to the workflow queue: lookups run as local activities, the rest on the workflow queue, one search-attribute upsert per workflow task, same outcome', async () => {
    const prefix = uniquePrefix('routed');
    const workers = await env.startWorkers(prefix);
    try {
      const customer = domainCustomer('routed');
      const handle = await run(prefix, customer, {
        routes: { salesforce: 'workflow-queue', sap: 'workflow-queue', webhooks: 'workflow-queue' },
      });
      const result = await handle.result();
      expect(result).toMatchObject({
        salesforceAccountCreated: true,
        sapCustomerCreated: true,
        notification: { status: 'delivered' },
      });
      expect(accountsFor(customer.reference)).toHaveLength(1);
      expect(env.salesforce.records('Account').find((a) => a.Id === result.salesforceId)).toMatchObject({
        SAP_Customer_Number__c: result.sapCustomerNumber,
      });
      expect(sapCustomersNamed(customer.company!)).toHaveLength(1);

      const events = (await handle.fetchHistory()).events!;
      const scheduled = events
        .map((e) => e.activityTaskScheduledEventAttributes)
        .filter((a) => a !== undefined && a !== null);
      expect(scheduled.map((a) => a.activityType?.name)).toEqual([
        'upsertAccount',
        'createCustomer',
        'setAccountSapCustomerNumber',
        'deliverWebhook',
      ]);
      const workflowQueue = taskQueueName(prefix, coordinatorQueue);
      for (const a of scheduled) expect(a.taskQueue?.name).toBe(workflowQueue);
      // The lookups, the billing switch and the subscriber list are local activities: markers, no activity tasks.
      const markers = events.filter(
        (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
      );
      expect(markers).toHaveLength(4);
      // At most one search-attribute upsert between two workflow-task completions.
      let upsertsInTask = 0;
      for (const e of events) {
        if (e.upsertWorkflowSearchAttributesEventAttributes) upsertsInTask++;
        if (e.workflowTaskCompletedEventAttributes) upsertsInTask = 0;
        expect(upsertsInTask).toBeLessThanOrEqual(1);
      }
      const query = `BusinessKey = '${customer.reference}' AND IntegrationStep = 'completed' AND SalesforceId = '${result.salesforceId}' AND SapCustomerNumber = '${result.sapCustomerNumber}'`;
      expect(await runsFound(query)).toEqual([handle.workflowId]);
    } finally {
      await workers.stop();
    }
  });

  it('validates the customer of a run started past the API, and takes a customer its starter validated as given', async () => {
    const prefix = uniquePrefix('validated');
    await env.withWorkers(prefix, async () => {
      // Valid, but not in the normal form the schema returns: the e-mail is not lower-cased.
      const asSent = (label: string) => ({ ...domainCustomer(label), email: 'Ada.Lovelace@Example.COM' });
      const fromCli = asSent('unstamped');
      const fromApi = asSent('stamped');
      const [unstamped, stamped] = await Promise.all([
        run(prefix, fromCli),
        run(prefix, fromApi, { customerValidated: true }),
      ]);
      await Promise.all([unstamped.result(), stamped.result()]);
      // Validated in the run: normalised before any system saw it.
      expect(accountsFor(fromCli.reference)[0]?.Description).toBe(
        'Contact: Ada Lovelace <ada.lovelace@example.com>',
      );
      // Stamped by its starter: not validated (nor normalised) a second time.
      expect(accountsFor(fromApi.reference)[0]?.Description).toBe(
        'Contact: Ada Lovelace <Ada.Lovelace@Example.COM>',
      );

      const invalid = { ...domainCustomer('invalid'), email: 'not-an-email' };
      const refused = await run(prefix, invalid).then((h) =>
        h.result().then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
      expect(refused).toBeInstanceOf(WorkflowFailedError);
      expect((refused as WorkflowFailedError).cause).toMatchObject({
        type: 'InvalidInput',
        nonRetryable: true,
        message: expect.stringContaining('email: email must be a valid e-mail address'),
      });
      expect(accountsFor(invalid.reference)).toHaveLength(0);
    });
  });

  it('rides out SAP 500s, a Salesforce row lock, an expired session and a 429 with Retry-After, with no duplicates', async () => {
    const prefix = uniquePrefix('transient');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('transient');
      env.salesforce.expireSessions();
      env.salesforce.core.faults.failNext('unable-to-lock-row', 1, {
        operation: 'collections',
        method: 'PATCH',
      });
      env.sap.core.faults.failNext('system-failure', 2, { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' });
      env.webhooks.core.faults.failNext(
        'rate-limit',
        1,
        { operation: 'customer.created' },
        { retryAfterSeconds: 1 },
      );
      const tokensBefore = env.salesforce.tokensIssued().length;

      const handle = await run(prefix, customer);
      const result = await handle.result();

      expect(result.notification.status).toBe('delivered');
      expect(result.notification.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 2 });
      expect(accountsFor(customer.reference)).toHaveLength(1);
      expect(sapCustomersNamed(customer.company!)).toHaveLength(1);
      const accepted = env.webhooks
        .deliveries({ type: 'customer.created' })
        .filter((d) => (d.body as any)?.data?.reference === customer.reference && d.status < 300);
      expect(accepted).toHaveLength(1);
      expect(env.salesforce.tokensIssued().length).toBeGreaterThan(tokensBefore);

      const history = await handle.fetchHistory();
      const attemptsByType = Object.fromEntries(
        history
          .events!.filter((e) => e.activityTaskScheduledEventAttributes)
          .map((e) => {
            const scheduledId = e.eventId!.toString();
            const started = history.events!.find(
              (s) => s.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduledId,
            );
            return [
              e.activityTaskScheduledEventAttributes!.activityType!.name!,
              started?.activityTaskStartedEventAttributes?.attempt,
            ];
          }),
      );
      expect(attemptsByType).toMatchObject({ upsertAccount: 2, createCustomer: 3, deliverWebhook: 2 });
    });
  });

  it('when SAP rejects the customer, the Account this run created is deleted, the run fails with SAP’s message and an alert is posted', async () => {
    const prefix = uniquePrefix('sapfail');
    await env.withWorkers(prefix, async () => {
      // A country the SAP system has not configured: a business error in RETURN, not a fault.
      const customer = domainCustomer('sapfail', {
        address: { street: '1 Main St', city: 'Reykjavik', postalCode: '101', country: 'IS' },
      });
      const handle = await run(prefix, customer);
      const error = await handle.result().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(WorkflowFailedError);
      const failure = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.type).toBe('SapBusinessError');
      expect(failure.message).toMatch(
        /^customer .* was not created: SAP BAPI_CUSTOMER_CREATEFROMDATA1 rejected the request: .*IS/,
      );
      expect(failure.cause).toBeInstanceOf(ActivityFailure);
      expect((failure.cause as ActivityFailure).cause).toBeInstanceOf(ApplicationFailure);
      expect(((failure.cause as ActivityFailure).cause as ApplicationFailure).type).toBe('SapBusinessError');
      expect(failure.details?.[0]).toMatchObject({
        failedStep: 'sap-customer',
        undone: ['delete the Salesforce Account'],
        notUndone: [],
      });

      expect(accountsFor(customer.reference)).toHaveLength(0);
      expect(sapCustomersNamed(customer.company!)).toHaveLength(0);
      const alert = env.alerts.received.find((a) => a.body?.metadata?.workflowId === handle.workflowId);
      expect(alert?.body).toMatchObject({
        metadata: { severity: 'warning', failureType: 'SapBusinessError' },
      });
      expect(alert?.body.blocks[0].text.text).toContain('Undone: delete the Salesforce Account');
    });
  });

  it('never deletes an Account that existed before the run, even when SAP rejects the customer', async () => {
    const prefix = uniquePrefix('preexist');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('preexist', {
        address: { street: '1 Main St', city: 'Reykjavik', postalCode: '101', country: 'IS' },
      });
      const [existingId] = env.salesforce.seed('Account', {
        Name: 'Existing Ltd',
        Integration_Id__c: customer.reference,
      });
      const handle = await run(prefix, customer);
      const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect((error.cause as ApplicationFailure).type).toBe('SapBusinessError');
      expect((error.cause as ApplicationFailure).details?.[0]).toMatchObject({ undone: [] });
      expect(accountsFor(customer.reference).map((a) => a.Id)).toEqual([existingId]);
    });
  });

  it('never deletes an Account someone else created between the lookup and the upsert', async () => {
    const prefix = uniquePrefix('race');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('race', {
        address: { street: '1 Main St', city: 'Reykjavik', postalCode: '101', country: 'IS' },
      });
      // The upsert is held for a moment; meanwhile another writer creates the Account.
      const rule = env.salesforce.core.faults.failNext(
        'timeout',
        1,
        { operation: 'collections', method: 'PATCH' },
        { delayMs: 800 },
      );
      const handle = await run(prefix, customer);
      await waitFor(
        'the upsert to be held',
        () => !env.salesforce.core.faults.state().rules.some((r) => r.id === rule.id),
      );
      const [otherId] = env.salesforce.seed('Account', {
        Name: 'Created elsewhere',
        Integration_Id__c: customer.reference,
      });

      const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect((error.cause as ApplicationFailure).type).toBe('SapBusinessError');
      expect((error.cause as ApplicationFailure).details?.[0]).toMatchObject({ undone: [] });
      expect(accountsFor(customer.reference).map((a) => a.Id)).toEqual([otherId]);
    });
  });

  it('completes with no duplicates when the worker stops after the CRM step and another worker takes over', async () => {
    const prefix = uniquePrefix('failover');
    const customer = domainCustomer('failover');
    // SAP answers the lookup slowly, so worker A is stopped while the run is in the SAP step.
    env.sap.core.faults.failNext('timeout', 1, { operation: 'BAPI_CUSTOMER_FIND' }, { delayMs: 1500 });
    const workerA = await env.startWorkers(prefix, 'worker-a');
    const handle = await run(prefix, customer);
    await waitFor(
      'the run to reach the SAP step',
      async () => (await handle.query(getStepQuery)) === 'sap-customer',
    );
    await workerA.stop();

    const workerB = await env.startWorkers(prefix, 'worker-b');
    try {
      const result = await handle.result();
      expect(result).toMatchObject({ salesforceAccountCreated: true, sapCustomerCreated: true });
      expect(accountsFor(customer.reference)).toHaveLength(1);
      expect(sapCustomersNamed(customer.company!)).toHaveLength(1);

      const history = await handle.fetchHistory();
      const startedBy = (type: string) => {
        const scheduled = history.events!.find(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type,
        );
        return history.events!.find(
          (e) =>
            e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() ===
            scheduled?.eventId?.toString(),
        )?.activityTaskStartedEventAttributes?.identity;
      };
      expect(startedBy('upsertAccount')).toBe('worker-a');
      expect(startedBy('createCustomer')).toBe('worker-b');
    } finally {
      await workerB.stop();
    }
  });

  it('cancelling the run during the SAP step undoes the Account and leaves no live SAP customer', async () => {
    const prefix = uniquePrefix('cancel');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('cancel');
      env.sap.core.faults.failNext(
        'timeout',
        1,
        { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' },
        { delayMs: 1500 },
      );
      const handle = await run(prefix, customer);
      // In flight = a worker has started the createCustomer activity (it sends the request at once). The
      // lookup being answered is not enough: a quick cancel would otherwise land before the create is
      // even dispatched, and no create would ever reach SAP.
      await waitFor('the SAP create to be in flight', async () =>
        ((await handle.describe()).raw.pendingActivities ?? []).some(
          // PendingActivityState 2 = PENDING_ACTIVITY_STATE_STARTED
          (a) => a.activityType?.name === 'createCustomer' && Number(a.state) === 2,
        ),
      );
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
      expect((await handle.describe()).status.name).toBe('CANCELLED');

      expect(accountsFor(customer.reference)).toHaveLength(0);
      // The delayed create has been answered and no SAP session still holds uncommitted work: only
      // now is "no live customer" a statement about the end state, not about a create still in flight.
      await waitFor('the delayed SAP create to be answered', () =>
        env.sap.core.requests
          .list({ operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' })
          .some((r) => r.fault === 'timeout'),
      );
      await waitFor('no open SAP work', () => env.sap.sessions().every((s) => s.luw.length === 0));
      const sapCustomers = sapCustomersNamed(customer.company!);
      expect(sapCustomers.every((c) => c.LOEVM === 'X' && c.AUFSD === '01')).toBe(true);
      const history = await handle.fetchHistory();
      const createCompleted = history.events!.some(
        (e) =>
          e.activityTaskCompletedEventAttributes &&
          history.events!.find(
            (s) =>
              s.eventId?.toString() === e.activityTaskCompletedEventAttributes!.scheduledEventId?.toString(),
          )?.activityTaskScheduledEventAttributes?.activityType?.name === 'createCustomer',
      );
      if (createCompleted) expect(sapCustomers).toHaveLength(1);
      const alert = env.alerts.received.find((a) => a.body?.metadata?.workflowId === handle.workflowId);
      expect(alert?.body.metadata.failureType).toBe('Cancelled');
    });
  });

  it('cancelling during the notification undoes nothing, ends CANCELED and alerts', async () => {
    const prefix = uniquePrefix('cancelnotify');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('cancelnotify');
      env.webhooks.core.faults.failNext('timeout', 1, { operation: 'customer.created' }, { delayMs: 1500 });
      const handle = await run(prefix, customer);
      await waitFor(
        'the notification step',
        async () => (await handle.query(getStepQuery)) === 'notification',
      );
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      // The customer exists in both systems and stays.
      const [account] = accountsFor(customer.reference);
      expect(account?.SAP_Customer_Number__c).toMatch(/^\d{10}$/);
      expect(env.sap.customer(account!.SAP_Customer_Number__c as string)?.LOEVM).toBe('');
      const alert = await waitFor('the alert', () =>
        env.alerts.received.find((a) => a.body?.metadata?.workflowId === handle.workflowId),
      );
      expect(alert.body.metadata.failureType).toBe('Cancelled');
      expect(alert.body.blocks[0].text.text).toContain('/redrive');
    });
  });

  it('a notification that fails past its retry budget leaves the customer in place, reports it and alerts', async () => {
    const prefix = uniquePrefix('notify');
    await env.withWorkers(prefix, async () => {
      const customer = domainCustomer('notify');
      env.webhooks.core.faults.failNext('server-error', 3, { operation: 'customer.created' });
      const handle = await run(prefix, customer, {
        notificationRetry: { initialInterval: '100ms', maximumAttempts: 2 },
      });
      const result = await handle.result();
      expect(result.notification).toMatchObject({
        status: 'failed',
        deliveries: [{ subscriber: 'consumer', status: 'failed', error: { type: 'SystemUnavailable' } }],
      });
      expect(accountsFor(customer.reference)).toHaveLength(1);
      expect(env.sap.customer(result.sapCustomerNumber)?.LOEVM).toBe('');
      const alert = env.alerts.received.find((a) => a.body?.metadata?.workflowId === handle.workflowId);
      expect(alert?.body.blocks[0].text.text).toContain(`/v1/runs/${handle.workflowId}/redrive`);
    });
  });
});
