import { createHmac } from 'node:crypto';
import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { RunningSimulator } from '../../src/simulators/common/server';

const CLIENT_ID = 'dev-client';
const CLIENT_SECRET = 'dev-secret';
const USERNAME = 'integration@example.com';
const PASSWORD = 'dev-password';

const sim = createSalesforceSimulator({ queryBatchSize: 3 });
let running: RunningSimulator;
let url: string;

beforeAll(async () => {
  running = await sim.start({ port: 0 });
  url = running.url;
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

function connection(version = '62.0'): Connection {
  return new jsforce.Connection({
    oauth2: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, loginUrl: url },
    loginUrl: url,
    version,
  });
}

async function login(version = '62.0'): Promise<Connection> {
  const conn = connection(version);
  await conn.login(USERNAME, PASSWORD);
  return conn;
}

/** What jsforce rejects with: HttpApiError (errorCode, data) or an OAuth error (name = error). */
interface ClientError extends Error {
  errorCode?: string;
  data?: { fields?: string[] };
}

type Row = Record<string, unknown>;

async function failure(p: PromiseLike<unknown>): Promise<ClientError> {
  return Promise.resolve(p).then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err as ClientError,
  );
}

async function tokenRequest(form: Record<string, string>) {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: (await res.json()) as Record<string, string>,
  };
}

describe('OAuth2 token endpoint', () => {
  it('answers the password grant like Salesforce: token, instance_url, parseable id, signature, refresh token', async () => {
    const { status, contentType, body } = await tokenRequest({
      grant_type: 'password',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      username: USERNAME,
      password: PASSWORD,
    });
    expect(status).toBe(200);
    expect(contentType).toBe('application/json;charset=UTF-8');
    expect(body.access_token).toMatch(/^00D[0-9A-Za-z]{12}!/);
    expect(body.instance_url).toBe(url);
    expect(body.id).toBe(`${url}/id/${sim.options.orgId}/${sim.options.userId}`);
    expect(body.token_type).toBe('Bearer');
    expect(body.issued_at).toMatch(/^\d{13}$/);
    expect(body.signature).toBe(
      createHmac('sha256', CLIENT_SECRET).update(`${body.id}${body.issued_at}`).digest('base64'),
    );
    expect(body.refresh_token).toMatch(/^5Aep/);
    expect(body.scope).toBe('refresh_token api');
  });

  it('rejects bad credentials with the OAuth error jsforce surfaces as name/message', async () => {
    const err = await failure(connection().login(USERNAME, 'wrong'));
    expect(err.name).toBe('invalid_grant');
    expect(err.message).toBe('authentication failure');
    const badSecret = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: 'x',
    });
    expect(badSecret).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: 'invalid client credentials' },
    });
    const badClient = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'nope',
      client_secret: 'x',
    });
    expect(badClient.body.error).toBe('invalid_client_id');
    const badGrant = await tokenRequest({ grant_type: 'authorization_code', client_id: CLIENT_ID });
    expect(badGrant.body.error).toBe('unsupported_grant_type');
    const noGrant = await tokenRequest({ client_id: CLIENT_ID });
    expect(noGrant.body).toEqual({ error: 'invalid_request', error_description: 'grant type is missing' });
  });

  it('logs in with client_credentials and re-authorises through a refreshFn after the session expires', async () => {
    const refreshFn = (c: Connection, cb: (err?: Error, token?: string) => void) => {
      c.authorize({ grant_type: 'client_credentials' }).then(
        () => cb(undefined, c.accessToken ?? undefined),
        (err: Error) => cb(err),
      );
    };
    const conn = new jsforce.Connection({
      oauth2: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, loginUrl: url },
      loginUrl: url,
      version: '62.0',
      refreshFn,
    });
    const info = await conn.authorize({ grant_type: 'client_credentials' });
    expect(info.organizationId).toBe(sim.options.orgId);
    expect(conn.refreshToken).toBeFalsy();
    const before = sim.tokensIssued().length;
    expect(sim.expireSessions()).toBeGreaterThan(0);
    const res = await conn.query('SELECT Id FROM Account');
    expect(res.totalSize).toBe(0);
    const issuedNow = sim.tokensIssued().slice(before);
    expect(issuedNow.map((t) => t.grantType)).toEqual(['client_credentials']);
  });

  it('refreshes an expired session with the refresh_token grant transparently', async () => {
    const conn = connection();
    await conn.authorize({ grant_type: 'password', username: USERNAME, password: PASSWORD });
    expect(conn.refreshToken).toMatch(/^5Aep/);
    const oldToken = conn.accessToken;
    await fetch(`${url}/__admin/sessions/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const created = await conn.sobject('Account').create({ Name: 'After refresh' });
    expect(created.success).toBe(true);
    expect(conn.accessToken).not.toBe(oldToken);
    expect(sim.tokensIssued().at(-1)?.grantType).toBe('refresh_token');
    expect(sim.records('Account')).toHaveLength(1);
  });

  it('fails the refresh (not a 401 loop) once refresh tokens are revoked', async () => {
    const conn = connection();
    await conn.authorize({ grant_type: 'password', username: USERNAME, password: PASSWORD });
    sim.expireSessions({ revokeRefreshTokens: true });
    const tokenCallsBefore = sim.core.requests.list({ operation: 'token' }).length;
    const err = await failure(conn.query('SELECT Id FROM Account'));
    // jsforce wraps the token endpoint's invalid_grant in its own refresh error.
    expect(err.message).toBe('Unable to refresh session due to: expired access/refresh token');
    const tokenCalls = sim.core.requests.list({ operation: 'token' }).slice(tokenCallsBefore);
    expect(tokenCalls.map((r) => r.status)).toEqual([400]);
  });

  it('reports INVALID_SESSION_ID to a client that cannot refresh', async () => {
    const conn = new jsforce.Connection({ instanceUrl: url, accessToken: '00Dbogus!token', version: '62.0' });
    const err = await failure(conn.query('SELECT Id FROM Account'));
    expect(err.errorCode).toBe('INVALID_SESSION_ID');
    expect(err.message).toBe('Session expired or invalid');
  });

  it('serves the identity URL jsforce uses for conn.identity()', async () => {
    const conn = await login();
    const identity = await conn.identity();
    expect(identity.user_id).toBe(sim.options.userId);
    expect(identity.organization_id).toBe(sim.options.orgId);
    expect(identity.username).toBe(USERNAME);
  });
});

describe('REST resources', () => {
  it('lists versions 42.0-62.0 at /services/data/ without Sforce-Limit-Info', async () => {
    const res = await fetch(`${url}/services/data/`);
    const list = (await res.json()) as { version: string; url: string; label: string }[];
    expect(res.status).toBe(200);
    expect(res.headers.get('sforce-limit-info')).toBeNull();
    expect(list[0]).toEqual({ label: "Spring '18", url: '/services/data/v42.0', version: '42.0' });
    expect(list.at(-1)).toEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
  });

  it('describes objects with field types and flags, and the global describe with key prefixes', async () => {
    const conn = await login();
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => [s.name, s.keyPrefix])).toEqual([
      ['Account', '001'],
      ['Contact', '003'],
      ['Opportunity', '006'],
      ['Order', '801'],
    ]);
    const d = await conn.describe('Opportunity');
    const field = (name: string) => d.fields.find((f) => f.name === name)!;
    expect(field('Name')).toMatchObject({ type: 'string', nillable: false, createable: true, length: 120 });
    expect(field('Integration_Id__c')).toMatchObject({ externalId: true, unique: true, custom: true });
    expect(field('SAP_Order_Number__c')).toMatchObject({ externalId: true });
    expect(field('Stock_Available__c')).toMatchObject({ type: 'double', nillable: true });
    expect(field('CloseDate')).toMatchObject({ type: 'date', nillable: false });
    expect(field('Id')).toMatchObject({ type: 'id', createable: false, updateable: false });
  });

  it('creates, retrieves (all fields and ?fields=), updates and deletes a record', async () => {
    const conn = await login();
    const created = await conn
      .sobject('Account')
      .create({ Name: 'Acme', Phone: '+49 30 1234', BillingCity: 'Berlin' });
    expect(created).toEqual({ id: expect.stringMatching(/^001[0-9A-Za-z]{15}$/), success: true, errors: [] });
    const id = created.id!;
    const full = (await conn.sobject('Account').retrieve(id)) as Row;
    expect(full.attributes).toEqual({ type: 'Account', url: `/services/data/v62.0/sobjects/Account/${id}` });
    expect(full).toMatchObject({
      Id: id,
      Name: 'Acme',
      Phone: '+49 30 1234',
      IsDeleted: false,
      Website: null,
    });
    expect(full.CreatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$/);
    expect(full.CreatedById).toBe(sim.options.userId);
    const some = await conn.sobject('Account').retrieve(id.slice(0, 15), { fields: ['Name', 'BillingCity'] });
    expect(some).toEqual({
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${id}` },
      Name: 'Acme',
      BillingCity: 'Berlin',
    });
    const updated = await conn
      .sobject('Account')
      .update({ Id: id, Website: 'https://acme.example', Phone: null });
    expect(updated).toEqual({ id, success: true, errors: [] });
    expect(sim.record('Account', id)).toMatchObject({ Website: 'https://acme.example', Phone: null });
    const deleted = await conn.sobject('Account').destroy(id);
    expect(deleted).toEqual({ id, success: true, errors: [] });
    const err = await failure(conn.sobject('Account').retrieve(id));
    expect(err.errorCode).toBe('NOT_FOUND');
    const all = await conn.query(`SELECT Id, IsDeleted FROM Account WHERE Id = '${id}'`, { scanAll: true });
    expect(all.records).toEqual([expect.objectContaining({ Id: id, IsDeleted: true })]);
  });

  it('upserts by external id: 201 created:true, then 200 created:false on the same (case-insensitive) key', async () => {
    const conn = await login();
    const first = await conn
      .sobject('Account')
      .upsert({ Name: 'Acme', Integration_Id__c: 'CUST-1' }, 'Integration_Id__c');
    expect(first).toEqual({ id: expect.stringMatching(/^001/), success: true, errors: [], created: true });
    const second = await conn
      .sobject('Account')
      .upsert({ Name: 'Acme GmbH', Integration_Id__c: 'cust-1' }, 'Integration_Id__c');
    expect(second).toEqual({ id: (first as { id?: string }).id, success: true, errors: [], created: false });
    expect(sim.records('Account')).toEqual([
      expect.objectContaining({ Name: 'Acme GmbH', Integration_Id__c: 'CUST-1' }),
    ]);
  });

  it('answers an upsert on API 45.0 with 204 (jsforce then reports success without an id)', async () => {
    const conn = await login('45.0');
    await conn.sobject('Account').upsert({ Name: 'A', Integration_Id__c: 'OLD-1' }, 'Integration_Id__c');
    const again = await conn
      .sobject('Account')
      .upsert({ Name: 'B', Integration_Id__c: 'OLD-1' }, 'Integration_Id__c');
    expect(again).toEqual({ success: true, errors: [] });
  });

  it('decodes external id values with a space or an encoded slash', async () => {
    const conn = await login();
    const spaced = await conn
      .sobject('Account')
      .upsert({ Name: 'Space', Integration_Id__c: 'ACME 1' }, 'Integration_Id__c');
    expect(spaced).toMatchObject({ created: true });
    // jsforce does not encode the value; a caller must pre-encode a "/" so it stays one path segment.
    const slashed = await conn
      .sobject('Account')
      .upsert({ Name: 'Slash', Integration_Id__c: encodeURIComponent('ACME 1/2') }, 'Integration_Id__c');
    expect(slashed).toMatchObject({ created: true });
    expect(sim.records('Account').map((r) => r.Integration_Id__c)).toEqual(['ACME 1', 'ACME 1/2']);
    const again = await conn
      .sobject('Account')
      .upsert({ Name: 'Slash 2', Integration_Id__c: encodeURIComponent('ACME 1/2') }, 'Integration_Id__c');
    expect(again).toMatchObject({ id: (slashed as { id?: string }).id, created: false });
  });

  it('answers 300 when a non-unique external id matches several records', async () => {
    sim.seed('Account', [
      { Name: 'One', SAP_Customer_Number__c: '0000001000' },
      { Name: 'Two', SAP_Customer_Number__c: '0000001000' },
    ]);
    const conn = await login();
    const err = await failure(
      conn
        .sobject('Account')
        .upsert({ Name: 'X', SAP_Customer_Number__c: '0000001000' }, 'SAP_Customer_Number__c'),
    );
    expect(err.errorCode).toBe('MULTIPLE_CHOICES');
    const raw = await fetch(`${url}/services/data/v62.0/sobjects/Account/SAP_Customer_Number__c/0000001000`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${conn.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ Name: 'X' }),
    });
    expect(raw.status).toBe(300);
    const urls = (await raw.json()) as string[];
    expect(urls).toHaveLength(2);
    expect(urls[0]).toMatch(/^\/services\/data\/v62\.0\/sobjects\/Account\/001/);
  });

  it('rejects Id or the external id field in an upsert body, and a field that is not an external id', async () => {
    const conn = await login();
    const withId = await failure(
      conn
        .sobject('Account')
        .upsert({ Id: '001A0000006Vm9rIAC', Name: 'X', Integration_Id__c: 'K' }, 'Integration_Id__c'),
    );
    expect(withId.errorCode).toBe('INVALID_FIELD');
    expect(withId.message).toBe('The Id field should not be specified in the sobject data.');
    const withExt = await failure(
      conn.request({
        method: 'PATCH',
        url: '/sobjects/Account/Integration_Id__c/K',
        body: JSON.stringify({ Name: 'X', Integration_Id__c: 'K' }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(withExt.errorCode).toBe('INVALID_FIELD');
    const notExternal = await failure(conn.sobject('Account').upsert({ Name: 'X', Phone: '1' }, 'Phone'));
    expect(notExternal.errorCode).toBe('NOT_FOUND');
    expect(notExternal.message).toBe('Provided external ID field does not exist or is not accessible: Phone');
  });

  it('upserts Opportunity and Order by SAP_Order_Number__c', async () => {
    const conn = await login();
    const [acc] = sim.seed('Account', { Name: 'Buyer' });
    const opp = await conn.sobject('Opportunity').upsert(
      {
        SAP_Order_Number__c: '0031862684',
        Name: 'Deal',
        StageName: 'Prospecting',
        CloseDate: '2025-03-31',
        AccountId: acc,
      },
      'SAP_Order_Number__c',
    );
    expect(opp).toMatchObject({ success: true, created: true });
    const order = await conn
      .sobject('Order')
      .upsert(
        { SAP_Order_Number__c: '0031862684', AccountId: acc, EffectiveDate: '2025-01-15', Status: 'Draft' },
        'SAP_Order_Number__c',
      );
    expect(order).toMatchObject({ success: true, created: true, id: expect.stringMatching(/^801/) });
    expect(sim.records('Order')[0]).toMatchObject({
      OrderNumber: '00000100',
      EffectiveDate: '2025-01-15',
      Status: 'Draft',
    });
  });
});

describe('SOQL query and paging', () => {
  beforeEach(() => {
    sim.seed(
      'Account',
      Array.from({ length: 7 }, (_, i) => ({
        Name: `Account ${i}`,
        AnnualRevenue: i * 100,
        Integration_Id__c: `EXT-${i}`,
      })),
    );
  });

  it('pages with nextRecordsUrl = /services/data/v62.0/query/<locator>-<offset> and queryMore', async () => {
    const conn = await login();
    const first = await conn.query('SELECT Id, Name FROM Account ORDER BY Name');
    expect(first.totalSize).toBe(7);
    expect(first.done).toBe(false);
    expect(first.records.map((r: Row) => r.Name)).toEqual(['Account 0', 'Account 1', 'Account 2']);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g[0-9A-Za-z]{15}-3$/);
    const second = await conn.queryMore(first.nextRecordsUrl!);
    expect(second.records.map((r: Row) => r.Name)).toEqual(['Account 3', 'Account 4', 'Account 5']);
    const third = await conn.queryMore(second.nextRecordsUrl!);
    expect(third).toMatchObject({ done: true, totalSize: 7 });
    expect(third.nextRecordsUrl).toBeUndefined();
    expect(third.records.map((r: Row) => r.Name)).toEqual(['Account 6']);
    expect(sim.core.requests.list({ operation: 'queryMore' })).toHaveLength(2);
  });

  it('walks every page with autoFetch', async () => {
    const conn = await login();
    const res = await conn.query('SELECT Id, Name FROM Account').run({ autoFetch: true, maxFetch: 100 });
    expect(res.records).toHaveLength(7);
    expect(sim.core.requests.list({ operation: 'queryMore' })).toHaveLength(2);
  });

  it('honours Sforce-Query-Options: batchSize (within SF limits of 200..2000)', async () => {
    sim.seed(
      'Contact',
      Array.from({ length: 450 }, (_, i) => ({ LastName: `C${i}` })),
    );
    const conn = await login();
    const res = await conn.query('SELECT Id FROM Contact', {
      headers: { 'Sforce-Query-Options': 'batchSize=200' },
    });
    expect(res.records).toHaveLength(200);
    expect(res.nextRecordsUrl).toMatch(/-200$/);
  });

  it('evaluates WHERE / ORDER BY / LIMIT / OFFSET and returns fields in SELECT order', async () => {
    const conn = await login();
    const res = await conn.query(
      "SELECT AnnualRevenue, Name FROM Account WHERE (AnnualRevenue >= 200 AND AnnualRevenue < 600) AND Name NOT IN ('Account 3') ORDER BY AnnualRevenue DESC LIMIT 2 OFFSET 1",
    );
    expect(res.records.map((r: Row) => Object.keys(r))).toEqual([
      ['attributes', 'AnnualRevenue', 'Name'],
      ['attributes', 'AnnualRevenue', 'Name'],
    ]);
    expect(res.records.map((r: Row) => r.Name)).toEqual(['Account 4', 'Account 2']);
    const count = await conn.query("SELECT COUNT() FROM Account WHERE Integration_Id__c LIKE 'ext-_'");
    expect(count).toMatchObject({ totalSize: 7, done: true, records: [] });
    const since = await conn.query('SELECT Id FROM Account WHERE CreatedDate > 2000-01-01T00:00:00Z');
    expect(since.totalSize).toBe(7);
  });

  it('reports MALFORMED_QUERY and INVALID_FIELD to jsforce', async () => {
    const conn = await login();
    const malformed = await failure(conn.query('SELECT Id FRM Account'));
    expect(malformed.errorCode).toBe('MALFORMED_QUERY');
    expect(malformed.message).toContain('ERROR at Row:1:Column:11');
    const invalid = await failure(conn.query('SELECT Id, Nme FROM Account'));
    expect(invalid.errorCode).toBe('INVALID_FIELD');
    expect(invalid.message).toContain("No such column 'Nme' on entity 'Account'");
    const badLocator = await failure(conn.queryMore('01gAAAAAAAAAAAAAAA-3'));
    expect(badLocator.errorCode).toBe('INVALID_QUERY_LOCATOR');
  });
});

describe('sObject Collections', () => {
  it('creates several records and reports a failing item with statusCode (allOrNone false)', async () => {
    const conn = await login();
    const res = await conn.sobject('Account').create([{ Name: 'A' }, { Phone: '1' }, { Name: 'C' }]);
    expect(res).toEqual([
      { id: expect.stringMatching(/^001/), success: true, errors: [] },
      {
        success: false,
        errors: [
          {
            statusCode: 'REQUIRED_FIELD_MISSING',
            message: 'Required fields are missing: [Name]',
            fields: ['Name'],
          },
        ],
      },
      { id: expect.stringMatching(/^001/), success: true, errors: [] },
    ]);
    expect(sim.records('Account').map((r) => r.Name)).toEqual(['A', 'C']);
    expect(sim.core.requests.list({ operation: 'collections' })).toHaveLength(1);
  });

  it('rolls everything back with allOrNone and marks the good items ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
    const conn = await login();
    const res = await conn
      .sobject('Account')
      .create([{ Name: 'A' }, { Name: 'x'.repeat(256) }], { allOrNone: true });
    expect(res[0]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message:
            'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    });
    expect(res[1]!.errors[0]).toMatchObject({ statusCode: 'STRING_TOO_LONG', fields: ['Name'] });
    expect(sim.records('Account')).toEqual([]);
  });

  it('an update rolled back with allOrNone leaves every record as it was, created ones included', async () => {
    const conn = await login();
    const created = await conn.sobject('Account').create({ Name: 'Before' });
    const a = { id: created.id! };
    const before = sim.records('Account');
    const res = await conn.sobject('Account').update(
      [
        { Id: a.id, Name: 'After' },
        { Id: a.id, Name: 'x'.repeat(256) },
      ],
      { allOrNone: true },
    );
    expect(res.map((r) => r.success)).toEqual([false, false]);
    expect(sim.records('Account')).toEqual(before);
    // allOrNone=false keeps the good item and undoes only the failing one.
    const partial = await conn.sobject('Account').update(
      [
        { Id: a.id, Name: 'After' },
        { Id: a.id, Name: 'x'.repeat(256) },
      ],
      { allOrNone: false },
    );
    expect(partial.map((r) => r.success)).toEqual([true, false]);
    expect(sim.records('Account').map((r) => r.Name)).toEqual(['After']);
  });

  it('updates, upserts (PATCH /composite/sobjects/<Type>/<extField>), retrieves and deletes in bulk', async () => {
    const conn = await login();
    const ids = sim.seed('Account', [
      { Name: 'A', Integration_Id__c: 'A' },
      { Name: 'B', Integration_Id__c: 'B' },
    ]);
    const upd = await conn.sobject('Account').update([
      { Id: ids[0]!, Phone: '1' },
      { Id: '001A0000006Vm9rIAC', Phone: '2' },
    ]);
    expect(upd[0]).toEqual({ id: ids[0], success: true, errors: [] });
    expect(upd[1]).toMatchObject({
      id: '001A0000006Vm9rIAC',
      success: false,
      errors: [{ statusCode: 'NOT_FOUND' }],
    });
    const ups = await conn.sobject('Account').upsert(
      [
        { Integration_Id__c: 'B', Name: 'B2' },
        { Integration_Id__c: 'C', Name: 'C' },
      ],
      'Integration_Id__c',
    );
    expect(ups).toEqual([
      { id: ids[1], success: true, errors: [], created: false },
      { id: expect.stringMatching(/^001/), success: true, errors: [], created: true },
    ]);
    expect(sim.core.requests.list({ operation: 'collections' }).at(-1)?.path).toBe(
      '/services/data/v62.0/composite/sobjects/Account/Integration_Id__c',
    );
    const got = await conn
      .sobject('Account')
      .retrieve([ids[0]!, '001A0000006Vm9rIAC'], { fields: ['Name', 'Phone'] });
    expect(got).toEqual([
      {
        attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${ids[0]}` },
        Name: 'A',
        Phone: '1',
      },
      null,
    ]);
    const withDescribe = await conn.sobject('Account').retrieve([ids[1]!]);
    expect(withDescribe[0]).toMatchObject({ Id: ids[1], Name: 'B2', Integration_Id__c: 'B' });
    const del = await conn.sobject('Account').destroy(ids);
    expect(del).toEqual([
      { id: ids[0], success: true, errors: [] },
      { id: ids[1], success: true, errors: [] },
    ]);
    expect(sim.records('Account').map((r) => r.Name)).toEqual(['C']);
  });

  it('rejects more than 200 records in one call', async () => {
    const conn = await login();
    const err = await failure(
      conn.request({
        method: 'POST',
        url: '/composite/sobjects',
        body: JSON.stringify({
          allOrNone: false,
          records: Array.from({ length: 201 }, () => ({ attributes: { type: 'Account' }, Name: 'x' })),
        }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(err.errorCode).toBe('EXCEEDED_ID_LIMIT');
  });
});

describe('errors as Salesforce sends them', () => {
  it('REQUIRED_FIELD_MISSING names the fields', async () => {
    const conn = await login();
    const err = await failure(conn.sobject('Opportunity').create({ Name: 'Deal' }));
    expect(err.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect(err.name).toBe('REQUIRED_FIELD_MISSING');
    expect(err.message).toBe('Required fields are missing: [StageName, CloseDate]');
    expect(err.data?.fields).toEqual(['StageName', 'CloseDate']);
  });

  it('DUPLICATE_VALUE names the field and the existing record id, matching case-insensitively', async () => {
    const [existing] = sim.seed('Contact', { LastName: 'Doe', Integration_Id__c: 'abc' });
    const conn = await login();
    const err = await failure(conn.sobject('Contact').create({ LastName: 'Roe', Integration_Id__c: 'ABC' }));
    expect(err.errorCode).toBe('DUPLICATE_VALUE');
    expect(err.message).toBe(
      `duplicate value found: Integration_Id__c duplicates value on record with id: ${existing}`,
    );
  });

  it('INVALID_FIELD, STRING_TOO_LONG, INVALID_TYPE_ON_FIELD_IN_RECORD, JSON_PARSER_ERROR, NOT_FOUND', async () => {
    const conn = await login();
    const unknown = await failure(conn.sobject('Account').create({ Name: 'X', Colour__c: 'red' }));
    expect([unknown.errorCode, unknown.message]).toEqual([
      'INVALID_FIELD',
      "No such column 'Colour__c' on sobject of type Account",
    ]);
    const tooLong = await failure(
      conn.sobject('Account').create({ Name: 'X', BillingPostalCode: '1'.repeat(21) }),
    );
    expect(tooLong.errorCode).toBe('STRING_TOO_LONG');
    expect(tooLong.data?.fields).toEqual(['BillingPostalCode']);
    const notNumber = await failure(
      conn
        .sobject('Opportunity')
        .create({ Name: 'D', StageName: 'Prospecting', CloseDate: '2025-01-01', Amount: 'lots' }),
    );
    expect(notNumber.errorCode).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(notNumber.message).toBe('Amount: value not of required type: lots');
    const badDate = await failure(
      conn.sobject('Opportunity').create({ Name: 'D', StageName: 'Prospecting', CloseDate: '31.01.2025' }),
    );
    expect(badDate.errorCode).toBe('JSON_PARSER_ERROR');
    const badJson = await failure(
      conn.request({
        method: 'POST',
        url: '/sobjects/Account',
        body: '{"Name":',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(badJson.errorCode).toBe('JSON_PARSER_ERROR');
    const missing = await failure(conn.sobject('Account').retrieve('001A0000006Vm9rIAC'));
    expect([missing.errorCode, missing.message]).toEqual([
      'NOT_FOUND',
      'The requested resource does not exist',
    ]);
    const readOnly = await failure(
      conn.sobject('Account').create({ Name: 'X', CreatedDate: '2020-01-01T00:00:00Z' }),
    );
    expect(readOnly.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
  });

  it('stamps every REST response with Sforce-Limit-Info and application/json;charset=UTF-8', async () => {
    const conn = await login();
    const res = await fetch(`${url}/services/data/v62.0/sobjects/Account/001A0000006Vm9rIAC`, {
      headers: { authorization: `Bearer ${conn.accessToken}` },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(res.headers.get('sforce-limit-info')).toBe(`api-usage=${sim.apiUsage().used}/15000`);
    expect(await res.json()).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
  });

  it('answers REQUEST_LIMIT_EXCEEDED (403) once the daily allowance is used, and jsforce reads api-usage', async () => {
    const conn = await login();
    sim.setApiUsage(14999);
    await conn.query('SELECT Id FROM Account');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 15000, limit: 15000 });
    const err = await failure(conn.sobject('Account').create({ Name: 'Over' }));
    expect(err.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(err.message).toBe('TotalRequests Limit exceeded.');
    expect(sim.core.requests.list().at(-1)?.status).toBe(403);
    expect(sim.records('Account')).toEqual([]);
  });
});

describe('admin surface', () => {
  it('seeds and lists records over HTTP', async () => {
    const seeded = await fetch(`${url}/__admin/records/Account`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Name: 'Seeded' }]),
    });
    expect(seeded.status).toBe(201);
    const { ids } = (await seeded.json()) as { ids: string[] };
    const list = (await (await fetch(`${url}/__admin/records?type=Account`)).json()) as Row[];
    expect(list).toEqual([expect.objectContaining({ Id: ids[0], Name: 'Seeded' })]);
    const one = (await (await fetch(`${url}/__admin/records?type=Account&id=${ids[0]}`)).json()) as Row;
    expect(one.Name).toBe('Seeded');
  });
});
