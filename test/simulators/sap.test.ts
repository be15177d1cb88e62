import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as soap from 'soap';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSapSimulator } from '../../src/simulators/sap';
import type { SapSimulator } from '../../src/simulators/sap';
import type { FunctionName } from '../../src/simulators/sap/functions';
import type { RunningSimulator } from '../../src/simulators/common/server';

const USER = 'DEV_USER';
const PASSWORD = 'dev-password';
const WSDL_FILE = path.resolve(__dirname, '../../wsdl/sap/rfc-functions.wsdl');
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const COPY_REFERENCE = { SALESORG: '1000', DISTR_CHAN: '10', DIVISION: '00', REF_CUSTMR: '0000100000' };

type Row = Record<string, unknown>;
/** How node-soap rejects when the answer is an HTML page instead of SOAP. */
type HtmlRejection = {
  Fault: { faultstring: string };
  response: { status: number; headers: Record<string, string> };
  body: string;
};
// node-soap generates one `<OPERATION>Async` method per WSDL operation at runtime; this is their shape.
type SapClient = Record<
  `${FunctionName}Async`,
  (args: unknown, options?: unknown) => Promise<[Row, string]>
> & {
  lastResponseHeaders?: Record<string, unknown>;
  addHttpHeader(name: string, value: string): void;
};

function person(overrides: Row = {}): Row {
  return {
    FIRSTNAME: 'Ada',
    LASTNAME: 'Lovelace',
    CITY: 'London',
    POSTL_COD1: 'W1K 1AA',
    STREET: 'Baker Street',
    HOUSE_NO: '221',
    COUNTRY: 'GB',
    LANGU_P: 'E',
    TEL1_NUMBR: '+44 20 7946 0000',
    E_MAIL: 'ada@example.com',
    ...overrides,
  };
}

async function servedClient(url: string): Promise<SapClient> {
  const client = await soap.createClientAsync(`${url}/sap/bc/soap/rfc?wsdl`, {
    wsdl_headers: { Authorization: AUTH },
    disableCache: true,
  });
  client.setSecurity(new soap.BasicAuthSecurity(USER, PASSWORD));
  return client as unknown as SapClient;
}

async function fileClient(url: string, password = PASSWORD): Promise<SapClient> {
  const client = await soap.createClientAsync(WSDL_FILE, {
    endpoint: `${url}/sap/bc/soap/rfc?sap-client=100`,
  });
  client.setSecurity(new soap.BasicAuthSecurity(USER, password));
  return client as unknown as SapClient;
}

/** Opens a stateful session: any call returns the session cookies, which every later call sends back. */
async function openSession(client: SapClient): Promise<string> {
  await client.BAPI_TRANSACTION_ROLLBACKAsync({});
  const setCookie = client.lastResponseHeaders?.['set-cookie'] as string[] | undefined;
  const cookie = (setCookie ?? []).map((c) => c.split(';')[0]).join('; ');
  client.addHttpHeader('Cookie', cookie);
  return cookie;
}

function rowsOf(table: unknown): Row[] {
  const item = (table as { item?: Row | Row[] } | null)?.item;
  return item === undefined ? [] : Array.isArray(item) ? item : [item];
}

async function createCustomerCommitted(client: SapClient, data: Row = person()): Promise<string> {
  const [created] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
    PI_COPYREFERENCE: COPY_REFERENCE,
    PI_PERSONALDATA: data,
  });
  await client.BAPI_TRANSACTION_COMMITAsync({ WAIT: 'X' });
  return created.CUSTOMERNO as string;
}

function orderArgs(kunnr: string, overrides: Row = {}): Row {
  return {
    ORDER_HEADER_IN: {
      DOC_TYPE: 'TA',
      SALES_ORG: '1000',
      DISTR_CHAN: '10',
      DIVISION: '00',
      PURCH_NO_C: 'PO-4711',
      REQ_DATE_H: '2026-12-01',
    },
    ORDER_ITEMS_IN: {
      item: [
        { ITM_NUMBER: '000010', MATERIAL: 'MAT-1000', TARGET_QTY: 2 },
        { ITM_NUMBER: '000020', MATERIAL: 'MAT-1001', TARGET_QTY: 10 },
      ],
    },
    ORDER_PARTNERS: { item: [{ PARTN_ROLE: 'AG', PARTN_NUMB: kunnr }] },
    ...overrides,
  };
}

describe('SAP simulator over SOAP with the soap client', () => {
  const sim: SapSimulator = createSapSimulator();
  let run: RunningSimulator;

  beforeAll(async () => {
    run = await sim.start({ port: 0 });
  });
  afterAll(async () => {
    await run.stop();
  });
  afterEach(() => {
    sim.reset();
    sim.core.faults.reset();
  });

  it('serves its WSDL behind Basic auth with soap:address pointing at itself', async () => {
    const denied = await fetch(`${run.url}/sap/bc/soap/rfc?wsdl`);
    expect(denied.status).toBe(401);
    const res = await fetch(`${run.url}/sap/bc/soap/rfc?wsdl`, { headers: { authorization: AUTH } });
    expect(res.status).toBe(200);
    const wsdl = await res.text();
    expect(wsdl).toContain(`<soap:address location="${run.url}/sap/bc/soap/rfc?sap-client=100"/>`);
    expect(wsdl).toContain('targetNamespace="urn:sap-com:document:sap:rfc:functions"');
  });

  it('creates a customer and commits it in one session: GETDETAIL2 and FIND then see it', async () => {
    const client = await servedClient(run.url);
    const cookie = await openSession(client);
    expect(cookie).toMatch(/^SAP_SESSIONID_DEV_100=[^;]+; sap-contextid=/);

    const [created] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_PERSONALDATA: person(),
    });
    expect(created.CUSTOMERNO).toBe('0000100001');
    expect((created.RETURN as Row).TYPE ?? '').toBe('');
    // Not visible before the commit (update task), and listed as the session's open LUW.
    expect(sim.customer('0000100001')).toBeUndefined();
    const luws = (await (await fetch(`${run.url}/__admin/luws`)).json()) as {
      user: string;
      luw: { kind: string }[];
    }[];
    expect(luws.find((s) => s.luw.length > 0)).toMatchObject({
      user: 'DEV_USER',
      luw: [{ kind: 'customer.create' }],
    });

    const [commit] = await client.BAPI_TRANSACTION_COMMITAsync({ WAIT: 'X' });
    expect((commit.RETURN as Row).TYPE ?? '').toBe('');

    const [detail] = await client.BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '100001' });
    expect(detail.CUSTOMERADDRESS).toMatchObject({
      CUSTOMER: '0000100001',
      NAME: 'Ada Lovelace',
      CITY: 'London',
      POSTL_CODE: 'W1K 1AA',
      STREET: 'Baker Street 221',
      COUNTRY: 'GB',
      LANGU: 'E',
      SORT_FLD: 'LOVELACE',
    });
    expect(detail.CUSTOMERGENERALDETAIL).toMatchObject({ ENTERED_BY: 'DEV_USER', CURRENCY: 'EUR' });
    expect((detail.RETURN as Row).TYPE ?? '').toBe('');

    const [found] = await client.BAPI_CUSTOMER_FINDAsync({
      MAX_CNT: 0,
      PL_HOLD: 'X',
      SELOPT_TAB: { item: [{ TABNAME: 'KNA1', FIELDNAME: 'SORTL', FIELDVALUE: 'LOVEL*' }] },
    });
    expect(rowsOf(found.RESULT_TAB).map((r) => r.CUSTOMER)).toEqual(['0000100001']);

    const records = (await (await fetch(`${run.url}/__admin/records?table=ADR6`)).json()) as Row[];
    expect(records).toEqual([expect.objectContaining({ SMTP_ADDR: 'ada@example.com', CONSNUMBER: '001' })]);
  });

  it('a create without the session cookie is discarded at the end of its request (explicit mode)', async () => {
    const client = await fileClient(run.url);
    const [created] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_PERSONALDATA: person(),
    });
    expect(created.CUSTOMERNO).toBe('0000100001');
    const [commit] = await client.BAPI_TRANSACTION_COMMITAsync({ WAIT: 'X' });
    expect((commit.RETURN as Row).TYPE ?? '').toBe('');

    expect(sim.customers().map((c) => c.KUNNR)).toEqual(['0000100000']);
    const [detail] = await client.BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '0000100001' });
    expect(detail.RETURN).toMatchObject({
      TYPE: 'E',
      ID: 'F2',
      NUMBER: '160',
      MESSAGE: 'Customer 100001 does not exist',
    });
    // The number went back to the range: the next committed creation gets it.
    await openSession(client);
    expect(await createCustomerCommitted(client)).toBe('0000100001');
  });

  it('BAPI_TRANSACTION_ROLLBACK discards the session LUW', async () => {
    const client = await fileClient(run.url);
    await openSession(client);
    await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_PERSONALDATA: person(),
    });
    await client.BAPI_TRANSACTION_ROLLBACKAsync({});
    await client.BAPI_TRANSACTION_COMMITAsync({});
    expect(sim.customer('0000100001')).toBeUndefined();
  });

  it('implicit commit mode persists each successful update BAPI without a commit call or cookie', async () => {
    sim.setCommitMode('implicit');
    const client = await fileClient(run.url);
    const [created] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_PERSONALDATA: person(),
    });
    expect(sim.customer(created.CUSTOMERNO as string)).toMatchObject({
      NAME1: 'Ada Lovelace',
      SORTL: 'LOVELACE',
      ERNAM: 'DEV_USER',
    });
  });

  it('returns RETURN type E (AM 221) for a last name longer than 35 characters, and creates nothing', async () => {
    const client = await fileClient(run.url);
    await openSession(client);
    const [res] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_PERSONALDATA: person({ LASTNAME: 'L'.repeat(36) }),
    });
    expect(res.CUSTOMERNO ?? '').toBe('');
    expect(res.RETURN).toMatchObject({
      TYPE: 'E',
      ID: 'AM',
      NUMBER: '221',
      MESSAGE: 'Value for field PI_PERSONALDATA-LASTNAME is too long (maximum length 35)',
      MESSAGE_V1: 'PI_PERSONALDATA-LASTNAME',
      MESSAGE_V2: '35',
    });
    await client.BAPI_TRANSACTION_COMMITAsync({});
    expect(sim.customers()).toHaveLength(1);
  });

  it('returns RETURN type E (F2 152) for an unknown reference customer and (00 055) for a missing last name', async () => {
    const client = await fileClient(run.url);
    const [unknownRef] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: { ...COPY_REFERENCE, REF_CUSTMR: '999' },
      PI_PERSONALDATA: person(),
    });
    expect(unknownRef.RETURN).toMatchObject({
      TYPE: 'E',
      ID: 'F2',
      NUMBER: '152',
      MESSAGE: 'Reference customer 999 does not exist in sales area 1000 10 00',
    });
    const [noName] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_PERSONALDATA: person({ LASTNAME: '' }),
    });
    expect(noName.RETURN).toMatchObject({
      TYPE: 'E',
      ID: '00',
      NUMBER: '055',
      MESSAGE_V1: 'PI_PERSONALDATA-LASTNAME',
    });
    const [badCountry] = await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_COMPANYDATA: { NAME: 'ACME Ltd', CITY: 'Nowhere', COUNTRY: 'XX', LANGU: 'E' },
    });
    expect(badCountry.RETURN).toMatchObject({
      TYPE: 'E',
      ID: 'AM',
      NUMBER: '227',
      MESSAGE: 'Country XX does not exist',
    });
  });

  it('answers a wrong password with HTTP 401 and an HTML logon page, not SOAP', async () => {
    const client = await fileClient(run.url, 'wrong');
    const err = (await client
      .BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '100000' })
      .catch((e: unknown) => e)) as HtmlRejection;
    // node-soap cannot parse the HTML page: it rejects with a plain object, not an Error.
    expect(err).not.toBeInstanceOf(Error);
    expect(err.Fault.faultstring).toBe('Invalid XML');
    expect(err.response.status).toBe(401);
    expect(err.response.headers['www-authenticate']).toBe(
      'Basic realm="SAP NetWeaver Application Server [DEV/100]"',
    );
    expect(err.response.headers['content-type']).toMatch(/^text\/html/);
    expect(err.body).toContain('<title>Logon Error Message</title>');
  });

  it("renders system-failure as an HTTP 500 soap-env:Server fault with SAP's text", async () => {
    sim.core.faults.failNext('system-failure', 1, { operation: 'BAPI_CUSTOMER_GETDETAIL2' });
    const client = await fileClient(run.url);
    const err = (await client
      .BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '100000' })
      .catch((e: unknown) => e)) as {
      message: string;
      response: { status: number };
      root: { Envelope: { Body: { Fault: { faultcode: string; faultstring: unknown } } } };
    };
    expect(err.response.status).toBe(500);
    expect(err.root.Envelope.Body.Fault.faultcode).toBe('soap-env:Server');
    expect(err.message).toMatch(
      /^soap-env:Server: Web service processing error; more details in the web service error log on provider side \(UTC timestamp \d{14}; Transaction ID [0-9A-F]{32}\)/,
    );
    // The rule was for one call only.
    const [ok] = await client.BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '100000' });
    expect((ok.CUSTOMERADDRESS as Row).NAME).toBe('Reference customer domestic');
  });

  it('renders server-error-html as HTTP 500 with an ICM HTML page and service-unavailable as HTTP 503', async () => {
    sim.core.faults.failNext('server-error-html', 1, { operation: 'BAPI_CUSTOMER_FIND' });
    sim.core.faults.failNext('service-unavailable', 1, { operation: 'BAPI_SALESORDER_GETLIST' });
    const client = await fileClient(run.url);
    const html = (await client
      .BAPI_CUSTOMER_FINDAsync({
        SELOPT_TAB: { item: [{ TABNAME: 'KNA1', FIELDNAME: 'KUNNR', FIELDVALUE: '100000' }] },
      })
      .catch((e: unknown) => e)) as HtmlRejection;
    expect(html.response.status).toBe(500);
    expect(html.body).toContain('<h1>500 Internal Server Error</h1>');
    const unavailable = (await client
      .BAPI_SALESORDER_GETLISTAsync({ CUSTOMER_NUMBER: '100000', SALES_ORGANIZATION: '1000' })
      .catch((e: unknown) => e)) as HtmlRejection;
    expect(unavailable.response.status).toBe(503);
    expect(unavailable.body).toContain('Service cannot be reached');
  });

  it('lets a client time out on the timeout fault and drops the connection during an outage', async () => {
    sim.core.faults.failNext('timeout', 1, { operation: 'BAPI_CUSTOMER_GETDETAIL2' }, { delayMs: 1500 });
    const client = await fileClient(run.url);
    const timedOut = (await client
      .BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '100000' }, { timeout: 200 })
      .catch((e: unknown) => e)) as {
      code: string;
      message: string;
    };
    expect(timedOut.code).toBe('ECONNABORTED');
    expect(timedOut.message).toBe('timeout of 200ms exceeded');

    sim.core.faults.setOutage(true);
    const dropped = (await client
      .BAPI_CUSTOMER_GETDETAIL2Async({ CUSTOMERNO: '100000' })
      .catch((e: unknown) => e)) as { code: string };
    expect(dropped.code).toBe('ECONNRESET');
    sim.core.faults.setOutage(false);
  });

  it('creates a sales order, commits it, and lists it with GETLIST and GETDETAILEDLIST', async () => {
    const client = await servedClient(run.url);
    await openSession(client);
    const kunnr = await createCustomerCommitted(client);

    const [created] = await client.BAPI_SALESORDER_CREATEFROMDAT2Async(orderArgs(kunnr));
    expect(created.SALESDOCUMENT).toBe('0000004970');
    expect(rowsOf(created.RETURN).map((r) => [r.TYPE, r.ID, r.NUMBER, r.MESSAGE])).toEqual([
      ['S', 'V4', '233', 'SALES_HEADER_IN has been processed successfully'],
      ['S', 'V4', '233', 'SALES_ITEM_IN has been processed successfully'],
      ['S', 'V4', '233', 'SALES_ITEM_IN has been processed successfully'],
      ['S', 'V1', '311', 'Standard Order 4970 has been saved'],
    ]);
    expect(sim.order('4970')).toBeUndefined();
    await client.BAPI_TRANSACTION_COMMITAsync({ WAIT: 'X' });
    expect(sim.order('4970')).toMatchObject({
      KUNNR: kunnr,
      BSTKD: 'PO-4711',
      NETWR: 3395,
      WAERK: 'EUR',
      ERNAM: 'DEV_USER',
    });

    const [list] = await client.BAPI_SALESORDER_GETLISTAsync({
      CUSTOMER_NUMBER: kunnr,
      SALES_ORGANIZATION: '1000',
    });
    expect(
      rowsOf(list.SALES_ORDERS).map((r) => [r.SD_DOC, r.ITM_NUMBER, r.MATERIAL, r.REQ_QTY, r.PURCH_NO_C]),
    ).toEqual([
      ['0000004970', '000010', 'MAT-1000', '2.000', 'PO-4711'],
      ['0000004970', '000020', 'MAT-1001', '10.000', 'PO-4711'],
    ]);

    const [detail] = await client.BAPISDORDER_GETDETAILEDLISTAsync({
      I_BAPI_VIEW: { HEADER: 'X', ITEM: 'X', PARTNER: 'X' },
      SALES_DOCUMENTS: { item: [{ VBELN: '0000004970' }] },
    });
    expect(rowsOf(detail.ORDER_HEADERS_OUT)).toEqual([
      expect.objectContaining({
        DOC_NUMBER: '0000004970',
        DOC_TYPE: 'TA',
        SOLD_TO: kunnr,
        NET_VAL_HD: '3395.0000',
        CURRENCY: 'EUR',
        REQ_DATE_H: '2026-12-01',
      }),
    ]);
    expect(rowsOf(detail.ORDER_ITEMS_OUT).map((r) => [r.ITM_NUMBER, r.MATERIAL, r.NET_VALUE])).toEqual([
      ['000010', 'MAT-1000', '2500.0000'],
      ['000020', 'MAT-1001', '895.0000'],
    ]);
    expect(rowsOf(detail.ORDER_PARTNERS_OUT).map((r) => [r.PARTN_ROLE, r.CUSTOMER])).toEqual([
      ['AG', kunnr],
      ['WE', kunnr],
    ]);
    // Blocks not asked for in I_BAPI_VIEW stay empty.
    expect(rowsOf(detail.ORDER_SCHEDULES_OUT)).toEqual([]);
  });

  it('rejects an order for a customer blocked by Z_CUSTOMER_SET_BLOCKS (V1 462) and for an unknown material (V1 393)', async () => {
    const client = await fileClient(run.url);
    await openSession(client);
    const kunnr = await createCustomerCommitted(client);
    const [blocked] = await client.Z_CUSTOMER_SET_BLOCKSAsync({
      CUSTOMERNO: kunnr,
      DELETION_FLAG: 'X',
      ORDER_BLOCK: '01',
    });
    expect(blocked.RETURN).toMatchObject({ TYPE: 'S', ID: 'ZSD_INT', NUMBER: '001' });
    expect(sim.customer(kunnr)).toMatchObject({ LOEVM: '', AUFSD: '' });
    await client.BAPI_TRANSACTION_COMMITAsync({});
    expect(sim.customer(kunnr)).toMatchObject({ LOEVM: 'X', AUFSD: '01' });

    const [rejected] = await client.BAPI_SALESORDER_CREATEFROMDAT2Async(orderArgs(kunnr));
    expect(rejected.SALESDOCUMENT ?? '').toBe('');
    expect(rowsOf(rejected.RETURN)[0]).toMatchObject({ TYPE: 'E', ID: 'V1', NUMBER: '463' });

    await client.Z_CUSTOMER_SET_BLOCKSAsync({ CUSTOMERNO: kunnr, DELETION_FLAG: ' ', ORDER_BLOCK: '01' });
    await client.BAPI_TRANSACTION_COMMITAsync({});
    const [orderBlocked] = await client.BAPI_SALESORDER_CREATEFROMDAT2Async(orderArgs(kunnr));
    expect(rowsOf(orderBlocked.RETURN)[0]).toMatchObject({
      TYPE: 'E',
      ID: 'V1',
      NUMBER: '462',
      MESSAGE: 'Sold-to party 100001 is blocked for orders (order block 01)',
    });

    const [noMaterial] = await client.BAPI_SALESORDER_CREATEFROMDAT2Async(
      orderArgs('100000', {
        ORDER_ITEMS_IN: { item: [{ ITM_NUMBER: '10', MATERIAL: 'NOPE', TARGET_QTY: 1 }] },
      }),
    );
    expect(rowsOf(noMaterial.RETURN)).toEqual([
      expect.objectContaining({
        TYPE: 'E',
        ID: 'V1',
        NUMBER: '393',
        MESSAGE_V1: 'NOPE',
        PARAMETER: 'ORDER_ITEMS_IN',
        ROW: 1,
      }),
      expect.objectContaining({ TYPE: 'E', ID: 'V4', NUMBER: '219' }),
    ]);
  });

  it('ends idle sessions: work left uncommitted is gone after the idle timeout', async () => {
    let clock = Date.parse('2026-11-25T10:00:00Z');
    const timed = createSapSimulator({ sessionIdleTimeoutMs: 60_000, now: () => new Date(clock) });
    const timedRun = await timed.start({ port: 0 });
    try {
      const client = await fileClient(timedRun.url);
      await openSession(client);
      await client.BAPI_CUSTOMER_CREATEFROMDATA1Async({
        PI_COPYREFERENCE: COPY_REFERENCE,
        PI_PERSONALDATA: person(),
      });
      clock += 61_000;
      await client.BAPI_TRANSACTION_COMMITAsync({});
      expect(timed.customers().map((c) => c.KUNNR)).toEqual(['0000100000']);
      expect(timed.sessions().every((s) => s.luw.length === 0)).toBe(true);
    } finally {
      await timedRun.stop();
    }
  });
});

describe('SAP order events', () => {
  const secret = `whsec_${Buffer.from('sap-simulator-test-secret-0123456789').toString('base64')}`;
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  const sim = createSapSimulator();
  let run: RunningSimulator;

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    run = await sim.start({ port: 0 });
    const res = await fetch(`${run.url}/__admin/events`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/sap`,
        secret,
      }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await run.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('signs created/changed events; CHANGED_BY is the session user or the GUI dialog user', async () => {
    const wh = new Webhook(secret);
    const client = await fileClient(run.url);
    await openSession(client);
    const kunnr = await createCustomerCommitted(client);
    const [created] = await client.BAPI_SALESORDER_CREATEFROMDAT2Async(orderArgs(kunnr));
    await sim.events.drain();
    expect(received).toHaveLength(0);
    await client.BAPI_TRANSACTION_COMMITAsync({ WAIT: 'X' });
    await sim.events.drain();
    expect(received).toHaveLength(1);
    const first = wh.verify(received[0]!.body, received[0]!.headers as Record<string, string>) as {
      type: string;
      data: Row;
    };
    expect(first.type).toBe('sap.salesorder.created');
    expect(first.data).toMatchObject({
      SALESDOCUMENT: created.SALESDOCUMENT,
      CUSTOMER: kunnr,
      PURCH_NO_C: 'PO-4711',
      NET_VALUE: 3395,
      CURRENCY: 'EUR',
      CHANGED_BY: 'DEV_USER',
    });
    expect((first.data.items as Row[]).map((i) => [i.ITM_NUMBER, i.MATERIAL, i.REQ_QTY])).toEqual([
      ['000010', 'MAT-1000', 2],
      ['000020', 'MAT-1001', 10],
    ]);

    const [changed] = await client.BAPI_SALESORDER_CHANGEAsync({
      SALESDOCUMENT: created.SALESDOCUMENT,
      ORDER_HEADER_IN: { PURCH_NO_C: 'PO-4711-B', REQ_DATE_H: '2026-12-15' },
      ORDER_HEADER_INX: { UPDATEFLAG: 'U', PURCH_NO_C: 'X', REQ_DATE_H: 'X' },
    });
    expect(rowsOf(changed.RETURN).map((r) => [r.TYPE, r.ID, r.NUMBER])).toEqual([
      ['S', 'V4', '233'],
      ['S', 'V1', '311'],
    ]);
    await client.BAPI_TRANSACTION_COMMITAsync({});
    await sim.events.drain();
    const second = wh.verify(received[1]!.body, received[1]!.headers as Record<string, string>) as {
      type: string;
      data: Row;
    };
    expect(second.type).toBe('sap.salesorder.changed');
    expect(second.data).toMatchObject({
      PURCH_NO_C: 'PO-4711-B',
      REQ_DATE_H: '2026-12-15',
      CHANGED_BY: 'DEV_USER',
      CHANGED_FIELDS: ['PURCH_NO_C', 'REQ_DATE_H'],
    });

    const gui = await fetch(`${run.url}/__admin/orders/${created.SALESDOCUMENT as string}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ PURCH_NO_C: 'PO-PHONE' }),
    });
    expect(gui.status).toBe(200);
    await sim.events.drain();
    const third = wh.verify(received[2]!.body, received[2]!.headers as Record<string, string>) as {
      type: string;
      data: Row;
    };
    expect(third.data).toMatchObject({
      PURCH_NO_C: 'PO-PHONE',
      CHANGED_BY: 'MMUSTERMANN',
      CHANGED_FIELDS: ['PURCH_NO_C'],
    });
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(3);
  });
});
