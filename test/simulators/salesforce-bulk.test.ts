import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSalesforceSimulator } from '../../src/simulators/salesforce';
import type { RunningSimulator } from '../../src/simulators/common/server';

const sim = createSalesforceSimulator({ bulkQueryProcessingMs: 30 });
let running: RunningSimulator;

beforeAll(async () => {
  running = await sim.start({ port: 0 });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

async function login(): Promise<Connection> {
  const conn = new jsforce.Connection({
    oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: running.url },
    loginUrl: running.url,
    version: '62.0',
  });
  await conn.login('integration@example.com', 'dev-password');
  return conn;
}

async function api(conn: Connection, path: string, init: RequestInit = {}) {
  return fetch(`${running.url}/services/data/v62.0${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${conn.accessToken}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string> | undefined),
    },
  });
}

async function completedJob(conn: Connection, query: string, operation = 'query'): Promise<string> {
  const res = await api(conn, '/jobs/query', { method: 'POST', body: JSON.stringify({ operation, query }) });
  expect(res.status).toBe(200);
  const job = (await res.json()) as { id: string; state: string };
  for (;;) {
    const info = (await (await api(conn, `/jobs/query/${job.id}`)).json()) as { state: string };
    if (info.state === 'JobComplete') return job.id;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Bulk API 2.0 query jobs', () => {
  it('jsforce bulk2.query creates a job, polls it and streams the CSV results', async () => {
    sim.seed('Account', [{ Name: 'Bulk One', BillingCity: 'Paris' }, { Name: 'Bulk, "Two"' }]);
    const conn = await login();
    const records = (await (
      await conn.bulk2.query('SELECT Id, Name, BillingCity FROM Account ORDER BY Name', { pollInterval: 10 })
    ).toArray()) as Record<string, string>[];
    expect(records.map((r) => [r.Name, r.BillingCity])).toEqual([
      ['Bulk One', 'Paris'],
      ['Bulk, "Two"', ''],
    ]);
    expect(records[0]!.Id).toMatch(/^001[0-9A-Za-z]{15}$/);
  });

  it('job info moves UploadComplete -> JobComplete with numberRecordsProcessed', async () => {
    sim.seed('Account', [{ Name: 'A' }]);
    const conn = await login();
    const res = await api(conn, '/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Account' }),
    });
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      operation: 'query',
      object: 'Account',
      state: 'UploadComplete',
      contentType: 'CSV',
      apiVersion: 62,
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
      concurrencyMode: 'Parallel',
    });
    expect(String(created.id)).toMatch(/^750/);
    const id = await completedJob(conn, 'SELECT Id FROM Account');
    const info = (await (await api(conn, `/jobs/query/${id}`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ state: 'JobComplete', jobType: 'V2Query', numberRecordsProcessed: 1 });
  });

  it('pages results with maxRecords: Sforce-Locator names the next set until "null", Sforce-NumberOfRecords counts each', async () => {
    sim.seed(
      'Account',
      Array.from({ length: 5 }, (_, i) => ({ Name: `Acc ${i}` })),
    );
    const conn = await login();
    const id = await completedJob(conn, 'SELECT Name FROM Account ORDER BY Name');
    const sets: { locator: string | null; count: string | null; body: string }[] = [];
    let locator = '';
    do {
      const res = await api(
        conn,
        `/jobs/query/${id}/results?maxRecords=2${locator ? `&locator=${locator}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv');
      expect(res.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
      locator = res.headers.get('sforce-locator') ?? 'null';
      sets.push({ locator, count: res.headers.get('sforce-numberofrecords'), body: await res.text() });
    } while (locator !== 'null');
    expect(sets.map((s) => s.count)).toEqual(['2', '2', '1']);
    expect(sets[0]!.body).toBe('"Name"\n"Acc 0"\n"Acc 1"\n');
    expect(sets[2]!.body).toBe('"Name"\n"Acc 4"\n');
    // A locator stays valid while the job exists.
    const again = await api(conn, `/jobs/query/${id}/results?maxRecords=2&locator=${sets[0]!.locator!}`);
    expect(await again.text()).toBe('"Name"\n"Acc 2"\n"Acc 3"\n');
    const otherVersion = await fetch(`${running.url}/services/data/v61.0/jobs/query/${id}/results`, {
      headers: { authorization: `Bearer ${conn.accessToken}` },
    });
    expect(otherVersion.status).toBe(409);
    expect((await api(conn, `/jobs/query/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(conn, `/jobs/query/${id}`)).status).toBe(404);
  });

  it('queryAll includes deleted records with IsDeleted = true; datetimes are ISO-8601 with Z', async () => {
    const [keep, gone] = sim.seed('Account', [{ Name: 'Keep' }, { Name: 'Gone' }]);
    sim.uiDelete('Account', gone!);
    const conn = await login();
    const soql = 'SELECT Id, IsDeleted, SystemModstamp FROM Account ORDER BY SystemModstamp, Id';
    const live = await completedJob(conn, soql);
    const all = await completedJob(conn, soql, 'queryAll');
    const liveCsv = await (await api(conn, `/jobs/query/${live}/results`)).text();
    const allCsv = await (await api(conn, `/jobs/query/${all}/results`)).text();
    expect(liveCsv.split('\n').filter(Boolean)).toHaveLength(2);
    expect(liveCsv).toContain(`"${keep!}","false","`);
    expect(allCsv).toContain(`"${gone!}","true","`);
    expect(allCsv).toMatch(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z"/);
  });

  it('refuses what Bulk API 2.0 does not support: COUNT(), OFFSET, a bad operation, bad SOQL', async () => {
    const conn = await login();
    const create = async (body: unknown) => {
      const res = await api(conn, '/jobs/query', { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, code: ((await res.json()) as { errorCode: string }[])[0]!.errorCode };
    };
    expect(await create({ operation: 'query', query: 'SELECT COUNT() FROM Account' })).toEqual({
      status: 400,
      code: 'INVALIDJOB',
    });
    expect(await create({ operation: 'query', query: 'SELECT Id FROM Account LIMIT 5 OFFSET 2' })).toEqual({
      status: 400,
      code: 'INVALIDJOB',
    });
    expect(await create({ operation: 'upsert', query: 'SELECT Id FROM Account' })).toEqual({
      status: 400,
      code: 'INVALIDJOB',
    });
    expect(await create({ operation: 'query', query: 'SELECT Nope FROM Account' })).toMatchObject({
      status: 400,
    });
  });

  it('refuses results before JobComplete, and aborts a job that is not complete', async () => {
    const slow = createSalesforceSimulator({ bulkQueryProcessingMs: 60_000 });
    const run = await slow.start({ port: 0 });
    try {
      const conn = new jsforce.Connection({
        oauth2: { clientId: 'dev-client', clientSecret: 'dev-secret', loginUrl: run.url },
        loginUrl: run.url,
        version: '62.0',
      });
      await conn.login('integration@example.com', 'dev-password');
      const call = (path: string, init: RequestInit = {}) =>
        fetch(`${run.url}/services/data/v62.0${path}`, {
          ...init,
          headers: { authorization: `Bearer ${conn.accessToken}`, 'content-type': 'application/json' },
        });
      const created = (await (
        await call('/jobs/query', {
          method: 'POST',
          body: JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Account' }),
        })
      ).json()) as { id: string };
      const early = await call(`/jobs/query/${created.id}/results`);
      expect(early.status).toBe(400);
      expect(((await early.json()) as { errorCode: string }[])[0]!.errorCode).toBe('INVALIDJOBSTATE');
      const list = await conn.request<{ records: { id: string }[] }>('/jobs/query');
      expect(list.records.map((r) => r.id)).toEqual([created.id]);
      const aborted = await conn.request<{ state: string }>({
        method: 'PATCH',
        url: `/jobs/query/${created.id}`,
        body: JSON.stringify({ state: 'Aborted' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(aborted.state).toBe('Aborted');
    } finally {
      await slow.stop();
    }
  });
});

describe('daily API limit over a rolling window', () => {
  it('counts every REST call in Sforce-Limit-Info and answers REQUEST_LIMIT_EXCEEDED once exhausted', async () => {
    const conn = await login();
    sim.setApiUsage(9, 10);
    await conn.query('SELECT Id FROM Account');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 10, limit: 10 });
    const res = await api(conn, '/query?q=SELECT+Id+FROM+Account');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual([
      { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    ]);
  });

  it('usage falls when the window moves past the calls (admin knob: advanceMs, windowMs)', async () => {
    const conn = await login();
    const put = async (body: unknown) =>
      fetch(`${running.url}/__admin/limits`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(await (await put({ used: 10, limit: 10 })).json()).toMatchObject({ used: 10, limit: 10 });
    expect((await api(conn, '/limits')).status).toBe(403);
    const moved = (await (await put({ advanceMs: 24 * 60 * 60 * 1000 })).json()) as { used: number };
    expect(moved.used).toBe(0);
    const limits = (await (await api(conn, '/limits')).json()) as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    expect(limits.DailyApiRequests).toEqual({ Max: 10, Remaining: 9 });
    expect((await put({ windowMs: -1 })).status).toBe(400);
    expect(await (await put({ windowMs: 60_000 })).json()).toMatchObject({ windowMs: 60_000 });
  });
});
