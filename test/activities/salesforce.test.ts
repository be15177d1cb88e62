import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSalesforceActivities } from '../../src/activities/salesforce/activities';
import type { SalesforceActivities } from '../../src/activities/salesforce/activities';
import { SalesforceClient } from '../../src/activities/salesforce/client';
import type { SalesforceClientConfig } from '../../src/activities/salesforce/client';
import { requestLimitRetryDelay } from '../../src/activities/salesforce/errors';
import { toSalesforceAccount } from '../../src/domain/customer';
import type { SalesforceAccountFields } from '../../src/domain/customer';
import { ErrorType } from '../../src/domain/error-types';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import { failureOf, runInActivity } from '../support/activity';
import { domainCustomer } from '../support/customer';

/**
 * The Salesforce activities with the real jsforce client against the Salesforce simulator. Only the
 * Temporal activity context is the test one (MockActivityEnvironment, a new one per call).
 */

const sim = createSalesforceSimulator();
let running: RunningSimulator;

function newClient(overrides: Partial<SalesforceClientConfig> = {}): SalesforceClient {
  return new SalesforceClient({
    loginUrl: running.url,
    clientId: 'dev-client',
    clientSecret: 'dev-secret',
    apiVersion: '62.0',
    callClient: 'activity-tests',
    ...overrides,
  });
}

const passwordLogin = { username: 'integration@example.com', password: 'dev-password' };

/** Runs one activity call in a fresh mock activity context (attempt 1). */
const inActivity = <R>(call: () => Promise<R>): Promise<R> => runInActivity(1, call);

function newReference(label: string): string {
  return `act-sf-${label}:${randomUUID().slice(0, 8)}`;
}

function accountFields(reference: string): SalesforceAccountFields {
  return toSalesforceAccount(domainCustomer('act-sf', { reference }));
}

const accountsWith = (reference: string, includeDeleted = false) =>
  sim.records('Account', { includeDeleted }).filter((a) => a.Integration_Id__c === reference);

/** Shared by the tests that need no client of their own: one worker's client, logged in once. */
let sf: SalesforceActivities;

beforeAll(async () => {
  running = await sim.start({ port: 0 });
  sf = createSalesforceActivities({ client: newClient() });
});
afterAll(async () => {
  await running?.stop();
});

describe('Salesforce activities against the simulator (client credentials)', () => {
  it('findAccountByReference answers undefined when no Account carries the reference', async () => {
    expect(
      await inActivity(() => sf.findAccountByReference({ reference: newReference('none') })),
    ).toBeUndefined();
  });

  it('findAccountByReference returns the one Account with the reference, with its SAP number when set', async () => {
    const linked = newReference('linked');
    const unlinked = newReference('unlinked');
    const [linkedId, unlinkedId] = sim.seed('Account', [
      { Name: 'Linked Ltd', Integration_Id__c: linked, SAP_Customer_Number__c: '0000100042' },
      { Name: 'Unlinked Ltd', Integration_Id__c: unlinked },
    ]);

    expect(await inActivity(() => sf.findAccountByReference({ reference: linked }))).toEqual({
      id: linkedId,
      sapCustomerNumber: '0000100042',
    });
    expect(await inActivity(() => sf.findAccountByReference({ reference: unlinked }))).toEqual({
      id: unlinkedId,
      sapCustomerNumber: undefined,
    });
  });

  it.skip('findAccountByReference fails when two Accounts carry the reference (Integration_Id__c is unique, so this cannot be set up)', () => {});

  it('upsertAccount creates the Account keyed by Integration_Id__c, then updates the same record', async () => {
    // The ':' travels percent-encoded in the upsert URL and must be stored decoded.
    const reference = newReference('upsert');
    const fields = accountFields(reference);

    const first = await inActivity(() => sf.upsertAccount({ reference, fields }));
    expect(first).toEqual({ id: expect.stringMatching(/^001[A-Za-z0-9]{15}$/), created: true, attempt: 1 });

    const second = await inActivity(() =>
      sf.upsertAccount({
        reference,
        fields: { ...fields, BillingCity: 'Cambridge', Phone: '+441223000000' },
      }),
    );
    expect(second).toEqual({ id: first.id, created: false, attempt: 1 });

    const [account, ...others] = accountsWith(reference);
    expect(others).toHaveLength(0);
    expect(account).toMatchObject({
      Id: first.id,
      Integration_Id__c: reference,
      Name: fields.Name,
      BillingCity: 'Cambridge',
      Phone: '+441223000000',
      BillingCountry: 'GB',
      Type: 'Customer',
    });
    expect(await inActivity(() => sf.findAccountByReference({ reference }))).toEqual({
      id: first.id,
      sapCustomerNumber: undefined,
    });
  });

  it('upsertAccount works for a reference ending in an extension-like suffix (ACME.inc), which Salesforce answers 404 in an upsert URL', async () => {
    const reference = `ACME-${randomUUID().slice(0, 8)}.inc`;
    const first = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));
    expect(first).toMatchObject({ created: true });
    const second = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));
    expect(second).toEqual({ id: first.id, created: false, attempt: 1 });
    expect(accountsWith(reference).map((a) => a.Id)).toEqual([first.id]);
  });

  it('setAccountSapCustomerNumber writes SAP_Customer_Number__c on the Account', async () => {
    const reference = newReference('link');
    const { id } = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));

    await inActivity(() =>
      sf.setAccountSapCustomerNumber({ accountId: id, sapCustomerNumber: '0000100077' }),
    );

    expect(sim.record('Account', id)).toMatchObject({ SAP_Customer_Number__c: '0000100077' });
    expect(await inActivity(() => sf.findAccountByReference({ reference }))).toEqual({
      id,
      sapCustomerNumber: '0000100077',
    });
  });

  it('deleteAccount deletes by id, and a second delete of the same id reports deleted: false', async () => {
    const reference = newReference('del-id');
    const { id } = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));

    expect(await inActivity(() => sf.deleteAccount({ accountId: id, reference }))).toEqual({
      deleted: true,
      id,
    });
    expect(accountsWith(reference)).toHaveLength(0);
    expect(accountsWith(reference, true)).toMatchObject([{ Id: id, IsDeleted: true }]);

    expect(await inActivity(() => sf.deleteAccount({ accountId: id, reference }))).toEqual({
      deleted: false,
      id,
    });
  });

  it('deleteAccount without an id finds the Account by reference; when none is left it reports deleted: false', async () => {
    const reference = newReference('del-ref');
    const { id } = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));

    expect(await inActivity(() => sf.deleteAccount({ reference }))).toEqual({ deleted: true, id });
    expect(accountsWith(reference)).toHaveLength(0);

    expect(await inActivity(() => sf.deleteAccount({ reference }))).toEqual({ deleted: false });
  });

  it('an expired session is refreshed with a new client-credentials token and the call succeeds', async () => {
    const client = newClient();
    const activities = createSalesforceActivities({ client });
    const reference = newReference('expired-cc');
    await inActivity(() => activities.upsertAccount({ reference, fields: accountFields(reference) }));
    const tokensBefore = sim.tokensIssued().length;

    expect(sim.expireSessions()).toBeGreaterThan(0);
    const found = await inActivity(() => activities.findAccountByReference({ reference }));

    expect(found?.id).toMatch(/^001/);
    const issued = sim.tokensIssued();
    expect(issued.length).toBeGreaterThan(tokensBefore);
    expect(issued.at(-1)?.grantType).toBe('client_credentials');
  });

  it('a single INVALID_SESSION_ID answer (session-expired fault) is absorbed by a refresh', async () => {
    const reference = newReference('session-fault');
    await inActivity(() => sf.findAccountByReference({ reference })); // logged in
    const tokensBefore = sim.tokensIssued().length;
    sim.core.faults.failNext('session-expired', 1, { operation: 'collections', method: 'PATCH' });

    const result = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));

    expect(result.created).toBe(true);
    expect(accountsWith(reference)).toHaveLength(1);
    expect(sim.tokensIssued().length).toBeGreaterThan(tokensBefore);
  });
});

describe('Salesforce activities with the password grant', () => {
  it('logs in with username and password and works', async () => {
    const activities = createSalesforceActivities({ client: newClient(passwordLogin) });
    const tokensBefore = sim.tokensIssued().length;
    const reference = newReference('password');

    const result = await inActivity(() =>
      activities.upsertAccount({
        reference,
        fields: accountFields(reference),
      }),
    );

    expect(result.created).toBe(true);
    const newTokens = sim.tokensIssued().slice(tokensBefore);
    expect(newTokens.map((t) => t.grantType)).toEqual(['password']);
    expect(newTokens[0]?.refreshToken).toBeTruthy();
  });

  it('an expired session is re-established transparently and the call succeeds', async () => {
    const activities = createSalesforceActivities({ client: newClient(passwordLogin) });
    const reference = newReference('expired-pw');
    const { id } = await inActivity(() =>
      activities.upsertAccount({
        reference,
        fields: accountFields(reference),
      }),
    );
    const tokensBefore = sim.tokensIssued().length;

    sim.expireSessions();
    await inActivity(() =>
      activities.setAccountSapCustomerNumber({
        accountId: id,
        sapCustomerNumber: '0000100099',
      }),
    );

    expect(sim.tokensIssued().length).toBeGreaterThan(tokensBefore);
    expect(sim.record('Account', id)).toMatchObject({ SAP_Customer_Number__c: '0000100099' });
  });
});

describe('Salesforce failures are classified (DESIGN.md §4)', () => {
  it('REQUIRED_FIELD_MISSING is a non-retryable SalesforceRejected carrying the code and the fields', async () => {
    const reference = newReference('required');
    const { Name: _name, ...withoutName } = accountFields(reference);

    const failure = await failureOf(
      inActivity(() => sf.upsertAccount({ reference, fields: withoutName as SalesforceAccountFields })),
    );

    expect(failure.type).toBe(ErrorType.SalesforceRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^Salesforce account upsert failed: REQUIRED_FIELD_MISSING: .*Name/);
    expect(failure.details).toEqual([{ errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] }]);
    expect(accountsWith(reference)).toHaveLength(0);
  });

  it('STRING_TOO_LONG is a non-retryable SalesforceRejected', async () => {
    const reference = newReference('too-long');
    const failure = await failureOf(
      inActivity(() =>
        sf.upsertAccount({
          reference,
          fields: { ...accountFields(reference), Name: 'N'.repeat(300) },
        }),
      ),
    );

    expect(failure.type).toBe(ErrorType.SalesforceRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('STRING_TOO_LONG');
    expect(failure.details?.[0]).toMatchObject({ errorCode: 'STRING_TOO_LONG' });
  });

  it('updating an Account that was deleted is a non-retryable SalesforceRejected (ENTITY_IS_DELETED)', async () => {
    const reference = newReference('gone');
    const { id } = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));
    await inActivity(() => sf.deleteAccount({ accountId: id, reference }));

    const failure = await failureOf(
      inActivity(() => sf.setAccountSapCustomerNumber({ accountId: id, sapCustomerNumber: '0000100001' })),
    );

    expect(failure.type).toBe(ErrorType.SalesforceRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^Salesforce account update failed: ENTITY_IS_DELETED/);
    expect(failure.details).toEqual([{ errorCode: 'ENTITY_IS_DELETED' }]);
  });

  it('UNABLE_TO_LOCK_ROW is a retryable SystemUnavailable, and the retry creates the Account once', async () => {
    const reference = newReference('lock');
    const fields = accountFields(reference);
    sim.core.faults.failNext('unable-to-lock-row', 1, { operation: 'collections', method: 'PATCH' });

    const failure = await failureOf(inActivity(() => sf.upsertAccount({ reference, fields })));

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(
      /^Salesforce account upsert failed: UNABLE_TO_LOCK_ROW: unable to obtain exclusive access/,
    );
    expect(failure.details).toEqual([{ errorCode: 'UNABLE_TO_LOCK_ROW' }]);

    expect(await inActivity(() => sf.upsertAccount({ reference, fields }))).toMatchObject({ created: true });
    expect(accountsWith(reference)).toHaveLength(1);
  });

  it('SERVER_UNAVAILABLE (503) is a retryable SystemUnavailable', async () => {
    const reference = newReference('503');
    sim.core.faults.failNext('server-unavailable', 1, { operation: 'collections', method: 'PATCH' });

    const failure = await failureOf(
      inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) })),
    );

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('SERVER_UNAVAILABLE');
    expect(accountsWith(reference)).toHaveLength(0);
  });

  it('UNKNOWN_EXCEPTION (500) is a retryable SystemUnavailable', async () => {
    const reference = newReference('500');
    sim.core.faults.failNext('server-error', 1, { operation: 'update' });
    const { id } = await inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) }));

    const failure = await failureOf(
      inActivity(() => sf.setAccountSapCustomerNumber({ accountId: id, sapCustomerNumber: '0000100002' })),
    );

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('UNKNOWN_EXCEPTION');
  });

  it('REQUEST_LIMIT_EXCEEDED is RateLimited, retryable, with a next-retry delay', async () => {
    const reference = newReference('limit');
    sim.core.faults.failNext('request-limit-exceeded', 1, { operation: 'collections', method: 'PATCH' });

    const failure = await failureOf(
      inActivity(() => sf.upsertAccount({ reference, fields: accountFields(reference) })),
    );

    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(requestLimitRetryDelay);
    expect(failure.message).toContain('REQUEST_LIMIT_EXCEEDED');
    expect(failure.details).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
  });

  it('the daily API allowance used up (a real 403, not a fault) is RateLimited too', async () => {
    const { used, limit } = sim.apiUsage();
    sim.setApiUsage(limit, limit);
    try {
      const failure = await failureOf(
        inActivity(() => sf.findAccountByReference({ reference: newReference('quota') })),
      );
      expect(failure.type).toBe(ErrorType.RateLimited);
      expect(failure.nextRetryDelay).toBe(requestLimitRetryDelay);
    } finally {
      sim.setApiUsage(used, limit);
    }
  });

  it('a wrong client secret is a non-retryable SalesforceAuthFailed (invalid_client)', async () => {
    const activities = createSalesforceActivities({ client: newClient({ clientSecret: 'wrong-secret' }) });

    const failure = await failureOf(
      inActivity(() => activities.findAccountByReference({ reference: newReference('cs') })),
    );

    expect(failure.type).toBe(ErrorType.SalesforceAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /^Salesforce account lookup failed: invalid_client: invalid client credentials/,
    );
    expect(failure.details).toEqual([{ errorCode: 'invalid_client' }]);
  });

  it('a wrong client secret with the password grant is a non-retryable SalesforceAuthFailed', async () => {
    const activities = createSalesforceActivities({
      client: newClient({ ...passwordLogin, clientSecret: 'wrong-secret' }),
    });

    const failure = await failureOf(
      inActivity(() => activities.findAccountByReference({ reference: newReference('pw-cs') })),
    );

    expect(failure.type).toBe(ErrorType.SalesforceAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid_client');
  });

  it('a wrong password is a non-retryable SalesforceAuthFailed (invalid_grant)', async () => {
    const activities = createSalesforceActivities({
      client: newClient({ ...passwordLogin, password: 'not-the-password' }),
    });

    const failure = await failureOf(
      inActivity(() => activities.findAccountByReference({ reference: newReference('pw') })),
    );

    expect(failure.type).toBe(ErrorType.SalesforceAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid_grant: authentication failure');
  });

  it('a login that failed is tried again on the next call (the client does not cache the failure)', async () => {
    const activities = createSalesforceActivities({ client: newClient() });
    sim.core.faults.failNext('server-unavailable', 1, { operation: 'token' });

    const failure = await failureOf(
      inActivity(() => activities.findAccountByReference({ reference: newReference('l1') })),
    );
    expect(failure.nonRetryable).toBe(false);

    expect(
      await inActivity(() => activities.findAccountByReference({ reference: newReference('l2') })),
    ).toBeUndefined();
  });

  // jsforce itself retries a GET on ECONNREFUSED five times with backoff (about 15 s) before giving up.
  it('Salesforce unreachable (connection refused) is a retryable SystemUnavailable', async () => {
    const down = createSalesforceSimulator();
    const downRunning = await down.start({ port: 0 });
    const client = new SalesforceClient({
      loginUrl: downRunning.url,
      clientId: 'dev-client',
      clientSecret: 'dev-secret',
      apiVersion: '62.0',
      callClient: 'activity-tests',
    });
    const activities = createSalesforceActivities({ client });
    const reference = newReference('down');
    await inActivity(() => activities.findAccountByReference({ reference })); // logged in while it was up
    await downRunning.stop();

    const failure = await failureOf(inActivity(() => activities.findAccountByReference({ reference })));

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/^Salesforce account lookup failed: .*ECONNREFUSED/);
  });
});
