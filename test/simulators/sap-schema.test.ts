import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSapSimulator } from '../../src/simulators/sap';
import type { RunningSimulator } from '../../src/simulators/common/server';
import { soapEnvelopeErrors } from '../support/xml-schema';

/**
 * Every reply of the SAP simulator, read as raw XML and checked by libxml2's schema validator against the
 * WSDL's own schema — not through node-soap, which accepts elements in any order and undeclared prefixes.
 */

const AUTH = `Basic ${Buffer.from('DEV_USER:dev-password').toString('base64')}`;

function envelope(body: string): string {
  return `<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:sap-com:document:sap:rfc:functions"><soap-env:Body>${body}</soap-env:Body></soap-env:Envelope>`;
}

const COPY_REFERENCE =
  '<PI_COPYREFERENCE><SALESORG>1000</SALESORG><DISTR_CHAN>10</DISTR_CHAN><DIVISION>00</DIVISION><REF_CUSTMR>0000100000</REF_CUSTMR></PI_COPYREFERENCE>';

describe('SAP simulator replies are valid against the WSDL schema (strict libxml2 validation)', () => {
  const sim = createSapSimulator();
  let run: RunningSimulator;
  let cookie = '';

  /** One stateful session, as the coordinator's client keeps it, so commits apply. */
  async function call(body: string): Promise<string> {
    const res = await fetch(`${run.url}/sap/bc/soap/rfc?sap-client=100`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'text/xml; charset=utf-8', cookie },
      body: envelope(body),
    });
    const setCookie = res.headers.getSetCookie();
    if (!cookie && setCookie.length > 0) cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
    expect(res.status).toBe(200);
    return res.text();
  }

  async function expectValid(body: string): Promise<string> {
    const xml = await call(body);
    expect(await soapEnvelopeErrors(xml), xml).toEqual([]);
    return xml;
  }

  let kunnr = '';
  let vbeln = '';

  beforeAll(async () => {
    run = await sim.start({ port: 0 });
    // The first call opens the session (SAP hands out its cookie); work in it persists on commit.
    await expectValid('<urn:BAPI_TRANSACTION_ROLLBACK/>');
    const created = await expectValid(
      `<urn:BAPI_CUSTOMER_CREATEFROMDATA1>${COPY_REFERENCE}<PI_PERSONALDATA><FIRSTNAME>Ada</FIRSTNAME><LASTNAME>Lovelace</LASTNAME><CITY>London</CITY><POSTL_COD1>W1K 1AA</POSTL_COD1><STREET>Baker Street</STREET><COUNTRY>GB</COUNTRY><LANGU_P>E</LANGU_P></PI_PERSONALDATA></urn:BAPI_CUSTOMER_CREATEFROMDATA1>`,
    );
    kunnr = /<CUSTOMERNO>(\d{10})<\/CUSTOMERNO>/.exec(created)![1]!;
    await expectValid('<urn:BAPI_TRANSACTION_COMMIT><WAIT>X</WAIT></urn:BAPI_TRANSACTION_COMMIT>');
  });
  afterAll(async () => {
    await run.stop();
  });

  it('the sales-order create reply lists its elements in the WSDL sequence, echoes empty fields without xsi:nil, and is valid', async () => {
    // SHORT_TEXT is sent empty: SAP echoes an initial CHAR field as an empty element, never as xsi:nil.
    const xml = await expectValid(
      `<urn:BAPI_SALESORDER_CREATEFROMDAT2><ORDER_HEADER_IN><DOC_TYPE>TA</DOC_TYPE><SALES_ORG>1000</SALES_ORG><DISTR_CHAN>10</DISTR_CHAN><DIVISION>00</DIVISION><PURCH_NO_C>006000000000001AAA</PURCH_NO_C></ORDER_HEADER_IN><ORDER_ITEMS_IN><item><ITM_NUMBER>000010</ITM_NUMBER><MATERIAL>MAT-1000</MATERIAL><TARGET_QTY>2</TARGET_QTY><SHORT_TEXT></SHORT_TEXT></item></ORDER_ITEMS_IN><ORDER_PARTNERS><item><PARTN_ROLE>AG</PARTN_ROLE><PARTN_NUMB>${kunnr}</PARTN_NUMB></item></ORDER_PARTNERS></urn:BAPI_SALESORDER_CREATEFROMDAT2>`,
    );
    const body =
      /<n0:BAPI_SALESORDER_CREATEFROMDAT2Response[^>]*>([\s\S]*)<\/n0:BAPI_SALESORDER_CREATEFROMDAT2Response>/.exec(
        xml,
      )![1]!;
    const topLevel: string[] = [];
    let depth = 0;
    for (const m of body.matchAll(/<(\/?)([A-Z_0-9]+)(\/?)>/g)) {
      if (m[1]) depth -= 1;
      else {
        if (depth === 0) topLevel.push(m[2]!);
        if (!m[3]) depth += 1;
      }
    }
    expect(topLevel).toEqual([
      'ORDER_CONDITIONS_IN',
      'ORDER_ITEMS_IN',
      'ORDER_ITEMS_INX',
      'ORDER_PARTNERS',
      'ORDER_SCHEDULES_IN',
      'RETURN',
      'SALESDOCUMENT',
    ]);
    expect(xml).not.toContain('xsi:nil');
    vbeln = /<SALESDOCUMENT>(\d{10})<\/SALESDOCUMENT>/.exec(xml)![1]!;
    await expectValid('<urn:BAPI_TRANSACTION_COMMIT><WAIT>X</WAIT></urn:BAPI_TRANSACTION_COMMIT>');
  });

  it('a rejected sales order (business error in RETURN) is valid too', async () => {
    await expectValid(
      `<urn:BAPI_SALESORDER_CREATEFROMDAT2><ORDER_HEADER_IN><DOC_TYPE>TA</DOC_TYPE><SALES_ORG>1000</SALES_ORG><DISTR_CHAN>10</DISTR_CHAN><DIVISION>00</DIVISION></ORDER_HEADER_IN><ORDER_PARTNERS><item><PARTN_ROLE>AG</PARTN_ROLE><PARTN_NUMB>0000999999</PARTN_NUMB></item></ORDER_PARTNERS></urn:BAPI_SALESORDER_CREATEFROMDAT2>`,
    );
  });

  it('empty dates come back as 0000-00-00, as SAP renders an initial DATS field', async () => {
    const xml = await expectValid(
      `<urn:BAPISDORDER_GETDETAILEDLIST><I_BAPI_VIEW><HEADER>X</HEADER><ITEM>X</ITEM><PARTNER>X</PARTNER><SDSCHEDULE>X</SDSCHEDULE><STATUS_H>X</STATUS_H></I_BAPI_VIEW><SALES_DOCUMENTS><item><VBELN>${vbeln}</VBELN></item></SALES_DOCUMENTS></urn:BAPISDORDER_GETDETAILEDLIST>`,
    );
    // Never changed, no purchase-order date: both initial.
    expect(xml).toContain('<PURCH_DATE>0000-00-00</PURCH_DATE>');
    expect(xml).toContain('<UPDATEDATE>0000-00-00</UPDATEDATE>');
    expect(xml).not.toMatch(/<(PURCH_DATE|UPDATEDATE)\/>|<(PURCH_DATE|UPDATEDATE)><\//);
  });

  it('customer read, find, blocks, order list and change replies are valid', async () => {
    await expectValid(
      `<urn:BAPI_CUSTOMER_GETDETAIL2><CUSTOMERNO>${kunnr}</CUSTOMERNO></urn:BAPI_CUSTOMER_GETDETAIL2>`,
    );
    await expectValid(
      '<urn:BAPI_CUSTOMER_FIND><MAX_CNT>5</MAX_CNT><PL_HOLD>X</PL_HOLD><SELOPT_TAB><item><TABNAME>KNA1</TABNAME><FIELDNAME>NAME1</FIELDNAME><FIELDVALUE>Ada*</FIELDVALUE></item></SELOPT_TAB></urn:BAPI_CUSTOMER_FIND>',
    );
    await expectValid(
      `<urn:BAPI_SALESORDER_GETLIST><CUSTOMER_NUMBER>${kunnr}</CUSTOMER_NUMBER><SALES_ORGANIZATION>1000</SALES_ORGANIZATION></urn:BAPI_SALESORDER_GETLIST>`,
    );
    await expectValid(
      `<urn:BAPI_SALESORDER_CHANGE><ORDER_HEADER_IN><REQ_DATE_H>2027-01-15</REQ_DATE_H></ORDER_HEADER_IN><ORDER_HEADER_INX><UPDATEFLAG>U</UPDATEFLAG><REQ_DATE_H>X</REQ_DATE_H></ORDER_HEADER_INX><SALESDOCUMENT>${vbeln}</SALESDOCUMENT></urn:BAPI_SALESORDER_CHANGE>`,
    );
    await expectValid('<urn:BAPI_TRANSACTION_COMMIT><WAIT>X</WAIT></urn:BAPI_TRANSACTION_COMMIT>');
    await expectValid(
      `<urn:Z_CUSTOMER_SET_BLOCKS><CUSTOMERNO>${kunnr}</CUSTOMERNO><ORDER_BLOCK>01</ORDER_BLOCK></urn:Z_CUSTOMER_SET_BLOCKS>`,
    );
    await expectValid('<urn:BAPI_TRANSACTION_ROLLBACK/>');
  });
});
