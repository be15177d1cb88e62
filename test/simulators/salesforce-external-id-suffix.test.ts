import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { RunningSimulator } from '../../src/simulators/common/server';

/**
 * Salesforce's REST API guide ("Upsert Records Using sObject Rows by External ID", and the GET / POST /
 * DELETE pages of the same resource) notes that some top-level domains conflict with file-format
 * extensions: an external id value in the URL that ends in `.inc` (their example: an e-mail address
 * `example@email.inc`) answers 404 Not Found. The value in a request body is not affected.
 */

const sim = createSalesforceSimulator();
let running: RunningSimulator;

beforeAll(async () => {
  running = await sim.start({ port: 0 });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => sim.reset());

async function login(): Promise<Connection> {
  const conn = new jsforce.Connection({
    oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: running.url },
    loginUrl: running.url,
    version: '62.0',
  });
  await conn.login('integration@example.com', 'dev-password');
  return conn;
}

describe('external id values with an extension-like suffix in the URL', () => {
  it('an upsert to /sobjects/Account/Integration_Id__c/ACME.inc answers 404 NOT_FOUND and creates nothing', async () => {
    const conn = await login();
    const err = (await conn
      .sobject('Account')
      .upsert({ Name: 'Acme', Integration_Id__c: 'ACME.inc' }, 'Integration_Id__c')
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { errorCode?: string } | undefined;
    expect(err?.errorCode).toBe('NOT_FOUND');
    expect(sim.records('Account')).toEqual([]);
  });

  it('a GET by the same external id answers 404 too, even when the record exists', async () => {
    const conn = await login();
    sim.seed('Account', { Name: 'Acme', Integration_Id__c: 'ACME.inc' });
    const res = (await conn
      .request({ method: 'GET', url: '/services/data/v62.0/sobjects/Account/Integration_Id__c/ACME.inc' })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { errorCode?: string } | undefined;
    expect(res?.errorCode).toBe('NOT_FOUND');
  });

  it('other dotted values (an e-mail address in .com) work in the URL', async () => {
    const conn = await login();
    const res = await conn
      .sobject('Account')
      .upsert({ Name: 'Acme', Integration_Id__c: 'ada@example.com' }, 'Integration_Id__c');
    expect(res).toMatchObject({ success: true, created: true });
  });

  it('the sObject Collections upsert carries the value in the body, where ACME.inc is accepted', async () => {
    const conn = await login();
    const [res] = await conn
      .sobject('Account')
      .upsert([{ Name: 'Acme', Integration_Id__c: 'ACME.inc' }], 'Integration_Id__c');
    expect(res).toMatchObject({ success: true, created: true });
    expect(sim.records('Account').map((a) => a.Integration_Id__c)).toEqual(['ACME.inc']);
  });
});
