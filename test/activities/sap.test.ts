import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSapActivities } from '../../src/activities/sap/activities';
import type { SapActivities } from '../../src/activities/sap/activities';
import { SapClient } from '../../src/activities/sap/client';
import type { SapClientConfig } from '../../src/activities/sap/client';
import { customerSchema, toSapCustomerMatch } from '../../src/domain/customer';
import type { CustomerInput, SapSalesArea } from '../../src/domain/customer';
import { ErrorType } from '../../src/domain/error-types';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { createSapSimulator } from '../../src/simulators/sap';
import { failureOf, runInActivity } from '../support/activity';

/**
 * The SAP activities with the real `soap` client against the SAP simulator in explicit-commit mode
 * (an update BAPI persists only with BAPI_TRANSACTION_COMMIT in the same session). Only the Temporal
 * activity context is the test one.
 */

const wsdlPath = path.resolve(__dirname, '../../wsdl/sap/rfc-functions.wsdl');
const salesArea: SapSalesArea = {
  salesOrg: '1000',
  distributionChannel: '10',
  division: '00',
  referenceCustomer: '0000100000',
};

const sap = createSapSimulator({ commitMode: 'explicit' });
let running: RunningSimulator;
const clients: SapClient[] = [];
let activities: SapActivities;

function newClient(overrides: Partial<SapClientConfig> = {}): SapClient {
  const client = new SapClient({
    wsdlPath,
    endpoint: `${running.url}/sap/bc/soap/rfc`,
    username: 'DEV_USER',
    password: 'dev-password',
    timeoutMs: 5000,
    ...overrides,
  });
  clients.push(client);
  return client;
}

const inActivity = runInActivity;

/** Polls a condition of the simulator's state (no fixed sleeps); fails after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function newCustomer(label: string, overrides: Partial<CustomerInput> = {}) {
  const id = randomUUID().slice(0, 8);
  // The company name carries the unique part, so check-before-create never matches another test.
  const customer = customerSchema.parse({
    reference: `act-sap-${label}-${id}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: '+44 20 7946 0958',
    company: `Pumps ${label} ${id}`,
    address: { street: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    ...overrides,
  });
  return { customer, match: toSapCustomerMatch(customer) };
}

const customersNamed = (name: string) => sap.customers().filter((c) => c.NAME1 === name);
/** Sessions still holding uncommitted work (an update BAPI without its commit). */
const uncommittedLuws = () => sap.sessions().filter((s) => s.luw.length > 0);

beforeAll(async () => {
  running = await sap.start({ port: 0 });
  activities = createSapActivities({ client: newClient(), salesArea });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await running?.stop();
});

describe('SAP customer activities against the simulator', () => {
  it('createCustomer creates the customer and commits it in the same session', async () => {
    const { customer, match } = newCustomer('create');

    const result = await inActivity(1, () => activities.createCustomer({ customer, match }));

    expect(result).toEqual({
      customerNumber: expect.stringMatching(/^\d{10}$/),
      recoveredFromEarlierAttempt: false,
    });
    expect(sap.customer(result.customerNumber)).toMatchObject({
      KUNNR: result.customerNumber,
      NAME1: customer.company,
      NAME2: 'Ada Lovelace',
      STRAS: "12 St James's Square",
      ORT01: 'London',
      PSTLZ: 'SW1Y 4JH',
      LAND1: 'GB',
      LOEVM: '',
      AUFSD: '',
    });
    expect(customersNamed(customer.company!)).toHaveLength(1);
    expect(uncommittedLuws()).toEqual([]);
  });

  it('a person without a company is created with PI_PERSONALDATA, NAME1 "first last"', async () => {
    const { customer, match } = newCustomer('person', {
      company: undefined,
      lastName: `Lovelace${randomUUID().slice(0, 6)}`,
    });

    const { customerNumber } = await inActivity(1, () => activities.createCustomer({ customer, match }));

    expect(sap.customer(customerNumber)).toMatchObject({ NAME1: `Ada ${customer.lastName}`, LOEVM: '' });
    expect(match.NAME1).toBe(`Ada ${customer.lastName}`);
  });

  it('a retried attempt after a committed create returns that customer and creates no second one', async () => {
    const { customer, match } = newCustomer('retry');
    const first = await inActivity(1, () => activities.createCustomer({ customer, match }));

    const second = await inActivity(2, () => activities.createCustomer({ customer, match }));

    expect(second).toEqual({ customerNumber: first.customerNumber, recoveredFromEarlierAttempt: true });
    expect(customersNamed(customer.company!)).toHaveLength(1);
  });

  it('a retried attempt with nothing committed before creates the customer', async () => {
    const { customer, match } = newCustomer('retry-fresh');

    const result = await inActivity(2, () => activities.createCustomer({ customer, match }));

    expect(result.recoveredFromEarlierAttempt).toBe(false);
    expect(customersNamed(customer.company!)).toHaveLength(1);
  });

  it('findCustomer finds the customer by its KNA1 fields and ignores ones flagged for deletion', async () => {
    const { customer, match } = newCustomer('find');
    expect(await inActivity(1, () => activities.findCustomer({ match }))).toEqual({
      customerNumber: undefined,
      candidates: [],
    });
    // An older, deleted copy of the same customer: it sorts first but must not be picked.
    sap.putCustomer({
      KUNNR: '0000090001',
      NAME1: match.NAME1,
      STRAS: match.STRAS,
      ORT01: match.ORT01,
      PSTLZ: match.PSTLZ,
      LAND1: match.LAND1,
      LOEVM: 'X',
    });
    expect(await inActivity(1, () => activities.findCustomer({ match }))).toEqual({
      customerNumber: undefined,
      candidates: [],
    });

    const { customerNumber } = await inActivity(1, () => activities.createCustomer({ customer, match }));

    expect(await inActivity(1, () => activities.findCustomer({ match }))).toEqual({
      customerNumber,
      candidates: [customerNumber],
    });
    // Another city is another customer.
    expect(
      await inActivity(1, () => activities.findCustomer({ match: { ...match, ORT01: 'Leeds' } })),
    ).toEqual({
      customerNumber: undefined,
      candidates: [],
    });
  });

  it('blockCustomer sets the deletion flag and order block, commits, and can run again', async () => {
    const { customer, match } = newCustomer('block');
    const { customerNumber } = await inActivity(1, () => activities.createCustomer({ customer, match }));

    expect(await inActivity(1, () => activities.blockCustomer({ customerNumber, match }))).toEqual({
      blocked: true,
      customerNumber,
    });
    expect(sap.customer(customerNumber)).toMatchObject({ LOEVM: 'X', AUFSD: '01' });
    expect(uncommittedLuws()).toEqual([]);

    // A retried compensation with the number sets the same flags again.
    expect(await inActivity(2, () => activities.blockCustomer({ customerNumber, match }))).toEqual({
      blocked: true,
      customerNumber,
    });
    expect(sap.customer(customerNumber)).toMatchObject({ LOEVM: 'X', AUFSD: '01' });
    // Without the number, a blocked customer is no longer found: nothing left to do.
    expect(await inActivity(1, () => activities.blockCustomer({ match }))).toEqual({ blocked: false });
    expect(customersNamed(customer.company!)).toHaveLength(1);
  });

  it('blockCustomer without a number finds the customer by its fields', async () => {
    const { customer, match } = newCustomer('block-find');
    const { customerNumber } = await inActivity(1, () => activities.createCustomer({ customer, match }));

    expect(await inActivity(1, () => activities.blockCustomer({ match }))).toEqual({
      blocked: true,
      customerNumber,
    });
    expect(sap.customer(customerNumber)).toMatchObject({ LOEVM: 'X', AUFSD: '01' });
  });

  it('blockCustomer with nothing committed reports blocked: false', async () => {
    const { match } = newCustomer('block-none');
    expect(await inActivity(1, () => activities.blockCustomer({ match }))).toEqual({ blocked: false });
  });

  it('getCustomer returns the address and general data SAP holds', async () => {
    const { customer, match } = newCustomer('get');
    const { customerNumber } = await inActivity(1, () => activities.createCustomer({ customer, match }));

    const detail = await inActivity(1, () => activities.getCustomer({ customerNumber }));

    expect(detail.address).toMatchObject({
      CUSTOMER: customerNumber,
      NAME: customer.company,
      CITY: 'London',
    });
    expect(detail.general).toMatchObject({ CUSTOMER: customerNumber });
  });
});

describe('SAP compensation without a customer number', () => {
  it('refuses to guess when several live customers match: an operator decides', async () => {
    const { match } = newCustomer('twins');
    for (const kunnr of ['0000880001', '0000880002']) {
      sap.putCustomer({
        KUNNR: kunnr,
        NAME1: match.NAME1,
        STRAS: match.STRAS,
        ORT01: match.ORT01,
        PSTLZ: match.PSTLZ,
        LAND1: match.LAND1,
      });
    }

    const failure = await failureOf(inActivity(1, () => activities.blockCustomer({ match })));

    expect(failure.type).toBe(ErrorType.SapCustomerConflict);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ candidates: ['0000880001', '0000880002'] }]);
    expect(customersNamed(match.NAME1).map((c) => c.LOEVM)).toEqual(['', '']);
  });
});

describe('SAP failures are classified (DESIGN.md §4)', () => {
  it('a RETURN row of type E (unknown country) is a non-retryable SapBusinessError with SAP’s ID and NUMBER', async () => {
    const { customer, match } = newCustomer('country', {
      address: { street: '1 Main St', city: 'Reykjavik', postalCode: '101', country: 'IS' },
    });

    const failure = await failureOf(inActivity(1, () => activities.createCustomer({ customer, match })));

    expect(failure.type).toBe(ErrorType.SapBusinessError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /^SAP BAPI_CUSTOMER_CREATEFROMDATA1 rejected the request: .*IS.* \(message AM 227, type E\)$/,
    );
    expect(failure.details).toEqual([
      {
        operation: 'BAPI_CUSTOMER_CREATEFROMDATA1',
        messages: [expect.objectContaining({ type: 'E', id: 'AM', number: '227', variables: ['IS'] })],
      },
    ]);
    expect(customersNamed(customer.company!)).toHaveLength(0);
    expect(uncommittedLuws()).toEqual([]);
  });

  it('a reference customer that does not exist is a non-retryable SapBusinessError (F2 152)', async () => {
    const wrongArea = createSapActivities({
      client: newClient(),
      salesArea: { ...salesArea, referenceCustomer: '0000999999' },
    });
    const { customer, match } = newCustomer('refcust');

    const failure = await failureOf(inActivity(1, () => wrongArea.createCustomer({ customer, match })));

    expect(failure.type).toBe(ErrorType.SapBusinessError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('(message F2 152, type E)');
    expect(failure.message).toContain('999999');
    expect(failure.details?.[0]).toMatchObject({
      operation: 'BAPI_CUSTOMER_CREATEFROMDATA1',
      messages: [{ type: 'E', id: 'F2', number: '152' }],
    });
    expect(customersNamed(customer.company!)).toHaveLength(0);
  });

  it('getCustomer of an unknown customer is a non-retryable SapBusinessError (F2 160)', async () => {
    const failure = await failureOf(
      inActivity(1, () => activities.getCustomer({ customerNumber: '0000999998' })),
    );

    expect(failure.type).toBe(ErrorType.SapBusinessError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /^SAP BAPI_CUSTOMER_GETDETAIL2 rejected the request: .*\(message F2 160, type E\)$/,
    );
  });

  it('blockCustomer of an unknown customer number is a non-retryable SapBusinessError', async () => {
    const { match } = newCustomer('block-unknown');

    const failure = await failureOf(
      inActivity(1, () => activities.blockCustomer({ customerNumber: '0000999997', match })),
    );

    expect(failure.type).toBe(ErrorType.SapBusinessError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^SAP Z_CUSTOMER_SET_BLOCKS rejected the request: .*F2 160/);
    expect(uncommittedLuws()).toEqual([]);
  });

  it('a SOAP system failure (soap-env:Server fault) is a retryable SystemUnavailable; nothing is created', async () => {
    const { customer, match } = newCustomer('sysfail');
    sap.core.faults.failNext('system-failure', 1, { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' });

    const failure = await failureOf(inActivity(1, () => activities.createCustomer({ customer, match })));

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(
      /^SAP BAPI_CUSTOMER_CREATEFROMDATA1 failed: Web service processing error/,
    );
    expect(failure.details?.[0]).toMatchObject({ operation: 'BAPI_CUSTOMER_CREATEFROMDATA1', status: 500 });
    expect(customersNamed(customer.company!)).toHaveLength(0);
    expect(uncommittedLuws()).toEqual([]);

    // The retry (attempt 2) finds nothing committed and creates the customer once.
    expect(await inActivity(2, () => activities.createCustomer({ customer, match }))).toMatchObject({
      recoveredFromEarlierAttempt: false,
    });
    expect(customersNamed(customer.company!)).toHaveLength(1);
  });

  it('a failure while opening the session (before any update) is a retryable SystemUnavailable', async () => {
    const { customer, match } = newCustomer('open');
    sap.core.faults.failNext('system-failure', 1, { operation: 'BAPI_TRANSACTION_ROLLBACK' });

    const failure = await failureOf(inActivity(1, () => activities.createCustomer({ customer, match })));

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(customersNamed(customer.company!)).toHaveLength(0);
  });

  it.each([
    { kind: 'server-error-html', status: 500 },
    { kind: 'service-unavailable', status: 503 },
  ])(
    'an ICM HTML error page ($kind, HTTP $status) is a retryable SystemUnavailable',
    async ({ kind, status }) => {
      const { customer, match } = newCustomer(kind);
      sap.core.faults.failNext(kind, 1, { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' });

      const failure = await failureOf(inActivity(1, () => activities.createCustomer({ customer, match })));

      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toBe(`SAP BAPI_CUSTOMER_CREATEFROMDATA1 failed: HTTP ${status}`);
      expect(customersNamed(customer.company!)).toHaveLength(0);
    },
  );

  it('a wrong password (HTML logon error page, HTTP 401) is a non-retryable SapAuthFailed', async () => {
    const wrong = createSapActivities({ client: newClient({ password: 'not-the-password' }), salesArea });
    const { customer, match } = newCustomer('auth');

    const failure = await failureOf(inActivity(1, () => wrong.createCustomer({ customer, match })));

    expect(failure.type).toBe(ErrorType.SapAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SAP refused the credentials (HTTP 401)');
    expect(customersNamed(customer.company!)).toHaveLength(0);
  });

  it('an answer slower than the client timeout is a retryable Timeout', async () => {
    const impatient = createSapActivities({ client: newClient({ timeoutMs: 300 }), salesArea });
    sap.core.faults.failNext('timeout', 1, { operation: 'BAPI_CUSTOMER_GETDETAIL2' }, { delayMs: 2000 });

    const failure = await failureOf(
      inActivity(1, () => impatient.getCustomer({ customerNumber: '0000100000' })),
    );

    expect(failure.type).toBe(ErrorType.Timeout);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('SAP BAPI_CUSTOMER_GETDETAIL2 timed out: timeout of 300ms exceeded');
  });

  it('a commit that answers after the client gave up still commits; the retry recovers that customer', async () => {
    const impatient = createSapActivities({ client: newClient({ timeoutMs: 300 }), salesArea });
    const { customer, match } = newCustomer('late-commit');
    sap.core.faults.failNext('timeout', 1, { operation: 'BAPI_TRANSACTION_COMMIT' }, { delayMs: 1000 });

    const failure = await failureOf(inActivity(1, () => impatient.createCustomer({ customer, match })));
    expect(failure.type).toBe(ErrorType.Timeout);
    expect(failure.nonRetryable).toBe(false);
    // Its outcome is unknown: the retry is held back one client timeout, so the late commit lands first.
    expect(failure.nextRetryDelay).toBe(300);

    await until('the late commit', () => customersNamed(customer.company!).length === 1);
    const [committed] = customersNamed(customer.company!);
    const retried = await inActivity(2, () => impatient.createCustomer({ customer, match }));

    expect(retried).toEqual({ customerNumber: committed!.KUNNR, recoveredFromEarlierAttempt: true });
    expect(customersNamed(customer.company!)).toHaveLength(1);
  });

  it('SAP dropping the connection (outage) is a retryable SystemUnavailable', async () => {
    sap.core.faults.setOutage(true);
    try {
      const failure = await failureOf(
        inActivity(1, () => activities.getCustomer({ customerNumber: '0000100000' })),
      );
      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/^SAP BAPI_CUSTOMER_GETDETAIL2 failed: /);
    } finally {
      sap.core.faults.setOutage(false);
    }
  });

  // When the work fails after the update BAPI, the session rolls back at once instead of holding its
  // uncommitted LUW (reserved numbers; for orders, the enqueue lock) until SAP's session timeout.
  it('a commit that fails leaves no uncommitted create behind in the SAP session', async () => {
    const { customer, match } = newCustomer('commit-fails');
    sap.core.faults.failNext('system-failure', 1, { operation: 'BAPI_TRANSACTION_COMMIT' });
    try {
      const failure = await failureOf(inActivity(1, () => activities.createCustomer({ customer, match })));

      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(customersNamed(customer.company!)).toHaveLength(0);
      expect(uncommittedLuws()).toEqual([]);
    } finally {
      // Do not let the abandoned LUW leak into other tests' assertions.
      sap.expireSessions();
    }
  });
});

describe('SAP unreachable', () => {
  it('connection refused is a retryable SystemUnavailable', async () => {
    const down = createSapSimulator();
    const downRunning = await down.start({ port: 0 });
    const client = new SapClient({
      wsdlPath,
      endpoint: `${downRunning.url}/sap/bc/soap/rfc`,
      username: 'DEV_USER',
      password: 'dev-password',
      timeoutMs: 5000,
    });
    await downRunning.stop();
    try {
      const failure = await failureOf(
        inActivity(1, () =>
          createSapActivities({ client, salesArea }).getCustomer({
            customerNumber: '0000100000',
          }),
        ),
      );
      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/ECONNREFUSED/);
    } finally {
      client.close();
    }
  });
});
