import path from 'node:path';
import * as soap from 'soap';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSapSimulator } from '../../src/simulators/sap';
import type { RunningSimulator } from '../../src/simulators/common/server';

const USER = 'DEV_USER';
const PASSWORD = 'dev-password';
const WSDL_FILE = path.resolve(__dirname, '../../wsdl/sap/rfc-functions.wsdl');
const COPY_REFERENCE = { SALESORG: '1000', DISTR_CHAN: '10', DIVISION: '00', REF_CUSTMR: '0000100000' };

type Row = Record<string, unknown>;
type Call = (args: unknown) => Promise<[Row, string]>;
type Client = Record<string, Call> & {
  lastResponseHeaders?: Record<string, unknown>;
  addHttpHeader(name: string, value: string): void;
};

const sim = createSapSimulator();
let run: RunningSimulator;

beforeAll(async () => {
  run = await sim.start({ port: 0 });
});
afterAll(async () => {
  await run.stop();
});
afterEach(() => {
  sim.reset();
});

async function client(): Promise<Client> {
  const c = await soap.createClientAsync(WSDL_FILE, {
    endpoint: `${run.url}/sap/bc/soap/rfc?sap-client=100`,
  });
  c.setSecurity(new soap.BasicAuthSecurity(USER, PASSWORD));
  return c;
}

/** A stateful session: the first call's cookies go with every later call. */
async function session(): Promise<Client> {
  const c = await client();
  await c.BAPI_TRANSACTION_ROLLBACKAsync!({});
  const setCookie = (c.lastResponseHeaders?.['set-cookie'] ?? []) as string[];
  c.addHttpHeader('Cookie', setCookie.map((x) => x.split(';')[0]).join('; '));
  return c;
}

function rowsOf(table: unknown): Row[] {
  const item = (table as { item?: Row | Row[] } | null)?.item;
  return item === undefined ? [] : Array.isArray(item) ? item : [item];
}

async function createCompany(c: Client, name: string): Promise<string> {
  const [res] = await c.BAPI_CUSTOMER_CREATEFROMDATA1Async!({
    PI_COPYREFERENCE: COPY_REFERENCE,
    PI_COMPANYDATA: {
      NAME: name,
      CITY: 'Berlin',
      POSTL_COD1: '10115',
      STREET: 'Invalidenstr. 1',
      COUNTRY: 'DE',
      LANGU: 'E',
    },
  });
  await c.BAPI_TRANSACTION_COMMITAsync!({ WAIT: 'X' });
  return res.CUSTOMERNO as string;
}

async function read(c: Client, args: Row = {}): Promise<Row[]> {
  const [res] = await c.CHANGE_POINTERS_READAsync!({ MESSAGE_TYPE: 'DEBMAS', ...args });
  return rowsOf(res.CHANGE_POINTERS);
}

describe('SAP change pointers for DEBMAS', () => {
  it('a committed create writes one KEY pointer; nothing is written before the commit or after a rollback', async () => {
    const c = await session();
    await c.BAPI_CUSTOMER_CREATEFROMDATA1Async!({
      PI_COPYREFERENCE: COPY_REFERENCE,
      PI_COMPANYDATA: { NAME: 'Rolled Back', CITY: 'Berlin', COUNTRY: 'DE', LANGU: 'E' },
    });
    expect(await read(c)).toEqual([]);
    await c.BAPI_TRANSACTION_ROLLBACKAsync!({});
    const kunnr = await createCompany(c, 'Pointer GmbH');
    const pointers = await read(c, { READ_NOT_PROCESSED_POINTERS: 'X' });
    expect(pointers).toEqual([
      expect.objectContaining({
        CPIDENT: '00000000000000000001',
        TABNAME: 'KNA1',
        TABKEY: `100${kunnr}`,
        FLDNAME: 'KEY',
        CDOBJCL: 'DEBI',
        CDOBJID: kunnr,
        CDCHGID: 'I',
        USERNAME: USER,
        MESTYPE: 'DEBMAS',
      }),
    ]);
    expect(String(pointers[0]!.CRETIME)).toMatch(/^\d{14}$/);
  });

  it('BAPI_CUSTOMER_CHANGEFROMDATA1 changes only the X-flagged fields, at commit, with one pointer per changed field', async () => {
    const c = await session();
    const kunnr = await createCompany(c, 'Change AG');
    const [changed] = await c.BAPI_CUSTOMER_CHANGEFROMDATA1Async!({
      CUSTOMERNO: kunnr,
      PI_COMPANYDATA: { NAME: 'Change AG & Co', CITY: 'Ignored', POSTL_COD1: '10117' },
      PI_COMPANYDATAX: { NAME: 'X', POSTL_COD1: 'X' },
    });
    expect((changed.RETURN as Row).TYPE ?? '').toBe(''); // an empty CHAR arrives as nil
    expect(sim.customer(kunnr)?.NAME1).toBe('Change AG'); // not before the commit
    await c.BAPI_TRANSACTION_COMMITAsync!({ WAIT: 'X' });
    expect(sim.customer(kunnr)).toMatchObject({ NAME1: 'Change AG & Co', PSTLZ: '10117', ORT01: 'Berlin' });
    const updates = (await read(c)).filter((p) => p.CDCHGID === 'U');
    expect(updates.map((p) => p.FLDNAME).sort()).toEqual(['NAME1', 'PSTLZ']);
  });

  it('BAPI_CUSTOMER_CHANGEFROMDATA1 reports business errors in RETURN (unknown customer, blanked name, unknown country)', async () => {
    const c = await session();
    const kunnr = await createCompany(c, 'Errors KG');
    const [unknown] = await c.BAPI_CUSTOMER_CHANGEFROMDATA1Async!({
      CUSTOMERNO: '0000999999',
      PI_COMPANYDATA: { NAME: 'X' },
      PI_COMPANYDATAX: { NAME: 'X' },
    });
    expect(unknown.RETURN).toMatchObject({ TYPE: 'E', ID: 'F2', NUMBER: '160' });
    const [blank] = await c.BAPI_CUSTOMER_CHANGEFROMDATA1Async!({
      CUSTOMERNO: kunnr,
      PI_COMPANYDATA: { NAME: '' },
      PI_COMPANYDATAX: { NAME: 'X' },
    });
    expect(blank.RETURN).toMatchObject({ TYPE: 'E', NUMBER: '055' });
    const [country] = await c.BAPI_CUSTOMER_CHANGEFROMDATA1Async!({
      CUSTOMERNO: kunnr,
      PI_COMPANYDATA: { COUNTRY: 'QQ' },
      PI_COMPANYDATAX: { COUNTRY: 'X' },
    });
    expect(country.RETURN).toMatchObject({ TYPE: 'E', NUMBER: '227' });
  });

  it('STATUS_WRITE flags pointers processed; READ_NOT_PROCESSED_POINTERS then skips them, a full read still returns them', async () => {
    const c = await session();
    await createCompany(c, 'First');
    await createCompany(c, 'Second');
    const all = await read(c, { READ_NOT_PROCESSED_POINTERS: 'X' });
    expect(all).toHaveLength(2);
    await c.CHANGE_POINTERS_STATUS_WRITEAsync!({
      MESSAGE_TYPE: 'DEBMAS',
      CHANGE_POINTERS_IDENTS: { item: [{ CPIDENT: all[0]!.CPIDENT }] },
    });
    // A separate stateless call: the status is a direct database update, committed with its call.
    const fresh = await client();
    const open = await read(fresh, { READ_NOT_PROCESSED_POINTERS: 'X' });
    expect(open.map((p) => p.CPIDENT)).toEqual([all[1]!.CPIDENT]);
    const everything = await read(fresh);
    expect(everything.map((p) => [p.CPIDENT, p.PROCESS ?? ''])).toEqual([
      [all[0]!.CPIDENT, 'X'],
      [all[1]!.CPIDENT, ''],
    ]);
  });

  it('block mode: consecutive reads in one session return consecutive blocks in CPIDENT order', async () => {
    const c = await session();
    for (const name of ['A1', 'A2', 'A3', 'A4', 'A5']) await createCompany(c, name);
    const reader = await session();
    await reader.CHANGE_POINTERS_READ_MODE_SETAsync!({ MESSAGE_TYPE: 'DEBMAS', BLOCK_SIZE: 2 });
    const blocks: string[][] = [];
    for (let i = 0; i < 4; i++) blocks.push((await read(reader)).map((p) => String(p.CPIDENT).slice(-1)));
    expect(blocks).toEqual([['1', '2'], ['3', '4'], ['5'], []]);
    // Another session is not in block mode.
    expect(await read(await client())).toHaveLength(5);
  });

  it('selects by creation date and time, and raises ERROR_IN_DATE_INTERVAL for a reversed interval', async () => {
    const c = await session();
    await createCompany(c, 'Dated');
    const today = new Date().toISOString().slice(0, 10);
    expect(await read(c, { CREATION_DATE_LOW: today, CREATION_TIME_LOW: '00:00:00' })).toHaveLength(1);
    expect(await read(c, { CREATION_DATE_LOW: '2099-01-01' })).toEqual([]);
    expect(await read(c, { CREATION_DATE_HIGH: '2000-01-01' })).toEqual([]);
    const err = await c.CHANGE_POINTERS_READAsync!({
      MESSAGE_TYPE: 'DEBMAS',
      CREATION_DATE_LOW: '2026-02-01',
      CREATION_DATE_HIGH: '2026-01-01',
    }).then(
      () => undefined,
      (e: { root?: { Envelope?: { Body?: { Fault?: { faultstring?: { $value?: string } } } } } }) => e,
    );
    expect(err?.root?.Envelope?.Body?.Fault?.faultstring?.$value).toBe('ERROR_IN_DATE_INTERVAL');
  });

  it('dialog-user changes (XD01/XD02 stand-ins) write pointers under the dialog user, including the deletion flag', async () => {
    const created = (await (
      await fetch(`${run.url}/__admin/customers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ NAME1: 'Gui Customer', ORT01: 'Hamburg', LAND1: 'DE' }),
      })
    ).json()) as Row;
    const kunnr = String(created.KUNNR);
    const res = await fetch(`${run.url}/__admin/customers/${kunnr}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ LOEVM: 'X' }),
    });
    expect(res.status).toBe(200);
    const pointers = (await (await fetch(`${run.url}/__admin/change-pointers`)).json()) as Row[];
    expect(pointers.map((p) => [p.CDOBJID, p.FLDNAME, p.CDCHGID, p.USERNAME])).toEqual([
      [kunnr, 'KEY', 'I', 'MMUSTERMANN'],
      [kunnr, 'LOEVM', 'U', 'MMUSTERMANN'],
    ]);
    const missing = await fetch(`${run.url}/__admin/customers/0000999999`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(missing.status).toBe(404);
  });
});
