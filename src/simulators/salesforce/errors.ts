/**
 * A Salesforce API error as the REST API reports it. Single-record resources send
 * `[{message, errorCode, fields}]`; sObject Collections put the same triple in each result's `errors`
 * with the code under `statusCode` instead.
 */
export class SfError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }

  /** The single-resource form (fields omitted when empty, as SF does for most codes). */
  toRestBody(): Record<string, unknown>[] {
    return [
      this.fields.length > 0
        ? { message: this.message, errorCode: this.errorCode, fields: this.fields }
        : { message: this.message, errorCode: this.errorCode },
    ];
  }

  /** The sObject Collections / SaveResult form. */
  toCollectionError(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.errorCode, message: this.message, fields: this.fields };
  }
}

export const sessionInvalid = () => new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
export const requestLimitExceeded = () =>
  new SfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
export const notFound = () => new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
export const serverUnavailable = () =>
  new SfError(503, 'SERVER_UNAVAILABLE', 'Server is unavailable. Please try your request again later.');
export const unableToLockRow = (id: string) =>
  new SfError(
    400,
    'UNABLE_TO_LOCK_ROW',
    `unable to obtain exclusive access to this record or 1 records: ${id}`,
  );
export const unknownException = () =>
  new SfError(
    500,
    'UNKNOWN_EXCEPTION',
    'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)',
  );
