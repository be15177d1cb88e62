import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { classifySalesforceError, requestLimitRetryDelay } from '../../src/activities/salesforce/errors';
import { ErrorType } from '../../src/domain/error-types';

/** What jsforce's HttpApiError looks like: name = errorCode, data = Salesforce's error object. */
function apiError(errorCode: string, message: string, fields?: string[]) {
  return Object.assign(new Error(message), {
    name: errorCode,
    errorCode,
    data: { errorCode, message, ...(fields ? { fields } : {}) },
  });
}

/** What jsforce's OAuth2 client throws for a token-endpoint error: name = the OAuth `error`. */
function oauthError(error: string, description: string) {
  return Object.assign(new Error(description), { name: error });
}

describe('classifySalesforceError', () => {
  it.each([
    {
      what: 'REQUIRED_FIELD_MISSING',
      err: apiError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [Name]', ['Name']),
      details: { errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] },
    },
    {
      what: 'DUPLICATE_VALUE',
      err: apiError(
        'DUPLICATE_VALUE',
        'duplicate value found: Integration_Id__c duplicates value on record with id: 001000000000001AAA',
        [],
      ),
      details: { errorCode: 'DUPLICATE_VALUE' },
    },
    {
      what: 'STRING_TOO_LONG',
      err: apiError('STRING_TOO_LONG', 'Account Name: data value too large', ['Name']),
      details: { errorCode: 'STRING_TOO_LONG', fields: ['Name'] },
    },
    {
      what: 'INVALID_FIELD',
      err: apiError('INVALID_FIELD', "No such column 'Foo__c' on sobject of type Account"),
      details: { errorCode: 'INVALID_FIELD' },
    },
    {
      what: 'NOT_FOUND',
      err: apiError('NOT_FOUND', 'The requested resource does not exist'),
      details: { errorCode: 'NOT_FOUND' },
    },
    {
      what: 'ENTITY_IS_DELETED',
      err: apiError('ENTITY_IS_DELETED', 'entity is deleted'),
      details: { errorCode: 'ENTITY_IS_DELETED' },
    },
    {
      what: 'a 4xx without a Salesforce body (ERROR_HTTP_400)',
      err: apiError('ERROR_HTTP_400', 'Bad Request'),
      details: { errorCode: 'ERROR_HTTP_400' },
    },
  ])('$what is a non-retryable SalesforceRejected with the code (and fields)', ({ err, details }) => {
    const failure = classifySalesforceError(err, 'account upsert');

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(ErrorType.SalesforceRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(failure.message).toBe(`Salesforce account upsert failed: ${err.errorCode}: ${err.message}`);
    expect(failure.details).toEqual([details]);
  });

  it.each([
    { what: 'UNABLE_TO_LOCK_ROW', err: apiError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access') },
    { what: 'SERVER_UNAVAILABLE', err: apiError('SERVER_UNAVAILABLE', 'Server unavailable') },
    { what: 'UNKNOWN_EXCEPTION', err: apiError('UNKNOWN_EXCEPTION', 'An unexpected error occurred') },
    { what: 'REQUEST_RUNNING_TOO_LONG', err: apiError('REQUEST_RUNNING_TOO_LONG', 'too long') },
    { what: 'QUERY_TIMEOUT', err: apiError('QUERY_TIMEOUT', 'Your query request was running for too long.') },
    { what: 'ERROR_HTTP_503', err: apiError('ERROR_HTTP_503', '<html>Service Unavailable</html>') },
    { what: 'ERROR_HTTP_500', err: apiError('ERROR_HTTP_500', 'Internal Server Error') },
    { what: 'ERROR_HTTP_502', err: apiError('ERROR_HTTP_502', 'Bad Gateway') },
    {
      what: 'INVALID_SESSION_ID that survived a refresh',
      err: apiError('INVALID_SESSION_ID', 'Session expired or invalid'),
    },
  ])('$what is a retryable SystemUnavailable', ({ err }) => {
    const failure = classifySalesforceError(err, 'account lookup');

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(failure.message).toBe(`Salesforce account lookup failed: ${err.errorCode}: ${err.message}`);
    expect(failure.details).toEqual([{ errorCode: err.errorCode }]);
  });

  it.each([
    // Only the code says what happened; the message of such a bare object is not asserted.
    { what: 'a plain { code: ECONNREFUSED }', err: { code: 'ECONNREFUSED' }, text: undefined },
    {
      what: "node-fetch's FetchError (ECONNRESET)",
      err: Object.assign(new Error('request to http://sf/ failed, reason: socket hang up'), {
        name: 'FetchError',
        code: 'ECONNRESET',
      }),
      text: 'FetchError: request to http://sf/ failed, reason: socket hang up',
    },
    {
      what: 'an error whose cause carries the network code (undici UND_ERR_SOCKET)',
      err: new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } }),
      text: 'TypeError: fetch failed',
    },
    {
      what: 'ENOTFOUND',
      err: Object.assign(new Error('getaddrinfo ENOTFOUND login.example'), { code: 'ENOTFOUND' }),
      text: 'Error: getaddrinfo ENOTFOUND login.example',
    },
  ])('a network error ($what) is a retryable SystemUnavailable', ({ err, text }) => {
    const failure = classifySalesforceError(err, 'account lookup');

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/^Salesforce account lookup failed: /);
    if (text) expect(failure.message).toBe(`Salesforce account lookup failed: ${text}`);
  });

  it('REQUEST_LIMIT_EXCEEDED (HTTP 403) is RateLimited and retryable with the daily-limit delay', () => {
    const failure = classifySalesforceError(
      apiError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
      'account upsert',
    );

    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(requestLimitRetryDelay);
    expect(failure.message).toBe(
      'Salesforce account upsert failed: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.',
    );
    expect(failure.details).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
  });

  it.each([
    ['invalid_grant', 'authentication failure'],
    ['invalid_client', 'invalid client credentials'],
    ['invalid_client_id', 'client identifier invalid'],
    ['unsupported_grant_type', 'grant type not supported'],
    ['inactive_user', 'user is inactive'],
    ['inactive_org', 'organization is locked'],
  ])('the OAuth error %s is a non-retryable SalesforceAuthFailed', (error, description) => {
    const failure = classifySalesforceError(oauthError(error, description), 'account lookup');

    expect(failure.type).toBe(ErrorType.SalesforceAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(`Salesforce account lookup failed: ${error}: ${description}`);
    expect(failure.details).toEqual([{ errorCode: error }]);
  });

  it.each([
    {
      what: 'a TypeError (a client bug)',
      err: new TypeError('x is not a function'),
      text: 'TypeError: x is not a function',
    },
    {
      what: "jsforce's failed session refresh",
      err: new Error('Unable to refresh session due to: expired access/refresh token'),
      text: 'Error: Unable to refresh session due to: expired access/refresh token',
    },
    {
      what: 'an aborted request (AbortError)',
      err: Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' }),
      text: 'AbortError: The user aborted a request.',
    },
    { what: 'null', err: null, text: 'Error: null' },
    { what: 'undefined', err: undefined, text: 'Error: undefined' },
    { what: 'a string', err: 'boom', text: 'Error: boom' },
  ])('anything that is not a Salesforce answer ($what) is a retryable SystemUnavailable', ({ err, text }) => {
    const failure = classifySalesforceError(err, 'account delete');

    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(`Salesforce account delete failed: ${text}`);
  });

  it('passes an ApplicationFailure through unchanged', () => {
    const original = ApplicationFailure.create({
      type: ErrorType.SalesforceRejected,
      nonRetryable: true,
      message: 'x',
    });
    expect(classifySalesforceError(original, 'account lookup')).toBe(original);
  });

  // jsforce retries a 429 itself only on GETs; a POST/PATCH answered 429 without a Salesforce body
  // reaches the classifier as ERROR_HTTP_429 and must stay retryable (DESIGN.md §4).
  it('a 429 without a Salesforce body (ERROR_HTTP_429) is retryable RateLimited, not a rejection', () => {
    const failure = classifySalesforceError(
      apiError('ERROR_HTTP_429', 'Too Many Requests'),
      'account upsert',
    );

    expect(failure.type).toBe(ErrorType.RateLimited);
    expect(failure.nonRetryable).toBe(false);
  });
});

describe('failed save results (collections report statusCode, single records errorCode)', () => {
  it('keeps a row lock in a collection result retryable', async () => {
    const { saveError } = await import('../../src/activities/salesforce/activities');
    const failure = classifySalesforceError(
      saveError([
        {
          statusCode: 'UNABLE_TO_LOCK_ROW',
          message: 'unable to obtain exclusive access to this record',
          fields: [],
        },
      ]),
      'stock update',
    );
    expect(failure.type).toBe(ErrorType.SystemUnavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  it('keeps a validation failure permanent, with its fields', async () => {
    const { saveError } = await import('../../src/activities/salesforce/activities');
    const failure = classifySalesforceError(
      saveError([
        {
          errorCode: 'REQUIRED_FIELD_MISSING',
          message: 'Required fields are missing: [Name]',
          fields: ['Name'],
        },
      ]),
      'opportunity upsert',
    );
    expect(failure.type).toBe(ErrorType.SalesforceRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details?.[0]).toEqual({ errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] });
  });
});
