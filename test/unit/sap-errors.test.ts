import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { assertNoBapiError, classifySapError, returnMessages } from '../../src/activities/sap/errors';
import { ErrorType } from '../../src/domain/error-types';

/** One RETURN row as node-soap hands it over (empty CHAR fields come as null or ""). */
function row(TYPE: string | null, ID: string, NUMBER: string, MESSAGE: string, ...vars: (string | null)[]) {
  return {
    TYPE,
    ID,
    NUMBER,
    MESSAGE,
    LOG_NO: null,
    LOG_MSG_NO: '000000',
    MESSAGE_V1: vars[0] ?? null,
    MESSAGE_V2: vars[1] ?? '',
    MESSAGE_V3: vars[2] ?? null,
    MESSAGE_V4: vars[3] ?? '',
  };
}

const countryError = row('E', 'AM', '227', 'Country IS does not exist', 'IS');

describe('classifySapError', () => {
  it.each([401, 403])('HTTP %i (the HTML logon error page) is a non-retryable SapAuthFailed', (status) => {
    const failure = classifySapError({ response: { status } }, 'BAPI_CUSTOMER_FIND');

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(ErrorType.SapAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      `SAP BAPI_CUSTOMER_FIND: SAP refused the credentials (HTTP ${status}); check SAP_USERNAME / SAP_PASSWORD and the user's roles`,
    );
    expect(failure.details).toEqual([{ operation: 'BAPI_CUSTOMER_FIND', status }]);
  });

  it('node-soap’s rejection for the 401 HTML page (a plain object, not an Error) is SapAuthFailed', () => {
    const failure = classifySapError(
      {
        Fault: { faultstring: 'Invalid XML' },
        response: { status: 401, headers: {} },
        body: '<html>…</html>',
      },
      'BAPI_CUSTOMER_CREATEFROMDATA1',
    );
    expect(failure.type).toBe(ErrorType.SapAuthFailed);
    expect(failure.nonRetryable).toBe(true);
  });

  it('a soap-env:Client fault is a non-retryable SapBusinessError with the fault string', () => {
    const err = {
      root: { Envelope: { Body: { Fault: { faultcode: 'soap-env:Client', faultstring: 'X' } } } },
    };

    const failure = classifySapError(err, 'Z_CUSTOMER_SET_BLOCKS');

    expect(failure.type).toBe(ErrorType.SapBusinessError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('SAP Z_CUSTOMER_SET_BLOCKS raised X');
    expect(failure.details).toEqual([
      {
        operation: 'Z_CUSTOMER_SET_BLOCKS',
        status: undefined,
        faultcode: 'soap-env:Client',
        faultstring: 'X',
      },
    ]);
  });

  it('a Client fault whose faultstring node-soap parsed as {$value} keeps the text', () => {
    const err = Object.assign(new Error('soap-env:Client: FU_NOT_FOUND'), {
      response: { status: 500 },
      root: {
        Envelope: {
          Body: {
            Fault: { faultcode: 'soap-env:Client', faultstring: { $value: 'FU_NOT_FOUND', attributes: {} } },
          },
        },
      },
    });

    const failure = classifySapError(err, 'Z_UNKNOWN');

    expect(failure.type).toBe(ErrorType.SapBusinessError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('SAP Z_UNKNOWN raised FU_NOT_FOUND');
  });

  it('a soap-env:Server fault (system failure, HTTP 500) is a retryable SystemUnavailable', () => {
    const faultstring =
      'Web service processing error; more details in the web service error log on provider side';
    const err = Object.assign(new Error(`soap-env:Server: ${faultstring}`), {
      response: { status: 500 },
      root: { Envelope: { Body: { Fault: { faultcode: 'soap-env:Server', faultstring } } } },
    });

    const failure = classifySapError(err, 'BAPI_TRANSACTION_COMMIT');

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(`SAP BAPI_TRANSACTION_COMMIT failed: ${faultstring}`);
    expect(failure.details).toEqual([{ operation: 'BAPI_TRANSACTION_COMMIT', status: 500, code: undefined }]);
  });

  it.each([
    {
      what: 'ECONNABORTED with axios’ message',
      err: { code: 'ECONNABORTED', message: 'timeout of 300ms exceeded' },
    },
    { what: 'the message alone', err: new Error('timeout of 30000ms exceeded') },
  ])('a client timeout ($what) is a retryable Timeout', ({ err }) => {
    const failure = classifySapError(err, 'BAPI_CUSTOMER_GETDETAIL2');

    expect(failure.type).toBe(ErrorType.Timeout);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(`SAP BAPI_CUSTOMER_GETDETAIL2 timed out: ${err.message}`);
    expect(failure.details).toEqual([{ operation: 'BAPI_CUSTOMER_GETDETAIL2' }]);
  });

  it.each([500, 502, 503, 504])(
    'node-soap’s rejection for an ICM HTML page with HTTP %i (a plain object) is a retryable SystemUnavailable',
    (status) => {
      const err = { Fault: { faultstring: 'Invalid XML' }, response: { status } };

      const failure = classifySapError(err, 'BAPI_CUSTOMER_CREATEFROMDATA1');

      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toBe(`SAP BAPI_CUSTOMER_CREATEFROMDATA1 failed: HTTP ${status}`);
      expect(failure.details).toEqual([
        { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1', status, code: undefined },
      ]);
    },
  );

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT'])(
    'the network error %s is a retryable SystemUnavailable naming the code',
    (code) => {
      const failure = classifySapError(
        Object.assign(new Error(`connect ${code}`), { code }),
        'BAPI_CUSTOMER_FIND',
      );

      expect(failure.type).toBe(ErrorType.SystemUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toBe(`SAP BAPI_CUSTOMER_FIND failed: ${code}`);
      expect(failure.details).toEqual([{ operation: 'BAPI_CUSTOMER_FIND', status: undefined, code }]);
    },
  );

  it('anything else is a retryable SystemUnavailable with its message', () => {
    const failure = classifySapError(
      new Error('no CUSTOMERNO in the answer'),
      'BAPI_CUSTOMER_CREATEFROMDATA1',
    );

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('SAP BAPI_CUSTOMER_CREATEFROMDATA1 failed: no CUSTOMERNO in the answer');
  });

  it('passes an ApplicationFailure through unchanged', () => {
    const original = ApplicationFailure.create({
      type: ErrorType.SapBusinessError,
      nonRetryable: true,
      message: 'x',
    });
    expect(classifySapError(original, 'BAPI_CUSTOMER_FIND')).toBe(original);
  });

  // node-soap rejects an HTML answer with a plain object that has no `message`: the status must survive.
  it('an HTML answer with HTTP 404 (a plain object) names the status in the message', () => {
    const failure = classifySapError(
      { Fault: { faultstring: 'Invalid XML' }, response: { status: 404 } },
      'BAPI_CUSTOMER_FIND',
    );

    expect(failure.message).toContain('HTTP 404');
  });
});

describe('returnMessages', () => {
  it('reads a single structure (BAPIRETURN1) as one message, trimming fields and dropping empty variables', () => {
    expect(returnMessages({ ...countryError, MESSAGE: 'Country IS does not exist  ' })).toEqual([
      { type: 'E', id: 'AM', number: '227', message: 'Country IS does not exist', variables: ['IS'] },
    ]);
  });

  it('reads a table of <item> rows, keeping order and all four variables', () => {
    const ret = {
      item: [
        row('S', 'V4', '233', 'SALES_HEADER_IN has been processed successfully', 'VBAKKOM'),
        row('W', 'V1', '555', 'Check the delivery date', '2026-12-01', 'x', 'y', 'z'),
      ],
    };
    expect(returnMessages(ret)).toEqual([
      {
        type: 'S',
        id: 'V4',
        number: '233',
        message: 'SALES_HEADER_IN has been processed successfully',
        variables: ['VBAKKOM'],
      },
      {
        type: 'W',
        id: 'V1',
        number: '555',
        message: 'Check the delivery date',
        variables: ['2026-12-01', 'x', 'y', 'z'],
      },
    ]);
  });

  it('reads a table with a single row ({item: {...}}) as one message', () => {
    expect(returnMessages({ item: countryError })).toEqual([
      { type: 'E', id: 'AM', number: '227', message: 'Country IS does not exist', variables: ['IS'] },
    ]);
  });

  it.each([
    ['null (node-soap’s empty table)', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['{item: null}', { item: null }],
    ['{item: []}', { item: [] }],
    ['a string', 'E'],
  ])('reads %s as no messages', (_what, ret) => {
    expect(returnMessages(ret)).toEqual([]);
  });

  it('drops rows whose TYPE is empty, null or blank (an all-initial RETURN means success)', () => {
    const ret = { item: [row('', '', '000', ''), row(null, '', '', ''), row(' ', '', '', ''), countryError] };
    expect(returnMessages(ret).map((m) => `${m.type} ${m.id} ${m.number}`)).toEqual(['E AM 227']);
    expect(returnMessages(row(null, '', '', ''))).toEqual([]);
  });
});

describe('assertNoBapiError', () => {
  it('passes W, I and S rows and returns them', () => {
    const ret = {
      item: [
        row('S', 'V1', '311', 'Standard Order 4970 has been saved', 'Standard Order', '4970'),
        row('W', 'V1', '555', 'Check the delivery date'),
        row('I', 'F2', '001', 'Information'),
      ],
    };
    expect(assertNoBapiError('BAPI_SALESORDER_CREATEFROMDAT2', ret).map((m) => m.type)).toEqual([
      'S',
      'W',
      'I',
    ]);
  });

  it('passes an all-initial RETURN and null', () => {
    expect(assertNoBapiError('BAPI_TRANSACTION_COMMIT', row('', '', '', ''))).toEqual([]);
    expect(assertNoBapiError('BAPI_TRANSACTION_COMMIT', null)).toEqual([]);
  });

  it.each(['E', 'A'])(
    'throws a non-retryable SapBusinessError for a %s row, with SAP’s message, class and number',
    (type) => {
      const ret = {
        item: [
          row('S', 'V4', '233', 'SALES_HEADER_IN has been processed successfully'),
          row(type, 'V1', '463', 'Sold-to party 100001 is flagged for deletion', '100001'),
          row('E', 'V4', '219', 'Sales document was not changed'),
        ],
      };

      const thrown = (() => {
        try {
          assertNoBapiError('BAPI_SALESORDER_CREATEFROMDAT2', ret);
        } catch (err) {
          return err;
        }
        return undefined;
      })();

      expect(thrown).toBeInstanceOf(ApplicationFailure);
      const failure = thrown as ApplicationFailure;
      expect(failure.type).toBe(ErrorType.SapBusinessError);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(
        `SAP BAPI_SALESORDER_CREATEFROMDAT2 rejected the request: Sold-to party 100001 is flagged for deletion (message V1 463, type ${type})`,
      );
      expect(failure.details).toEqual([
        {
          operation: 'BAPI_SALESORDER_CREATEFROMDAT2',
          messages: [
            {
              type,
              id: 'V1',
              number: '463',
              message: 'Sold-to party 100001 is flagged for deletion',
              variables: ['100001'],
            },
            { type: 'E', id: 'V4', number: '219', message: 'Sales document was not changed', variables: [] },
          ],
        },
      ]);
    },
  );

  it('throws for a single BAPIRETURN1 structure of type E', () => {
    expect(() => assertNoBapiError('BAPI_CUSTOMER_CREATEFROMDATA1', countryError)).toThrow(
      'SAP BAPI_CUSTOMER_CREATEFROMDATA1 rejected the request: Country IS does not exist (message AM 227, type E)',
    );
  });
});
