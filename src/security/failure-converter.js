'use strict';
/* global require, exports */
/**
 * Failure messages and stack traces go into an encoded payload (and so through the payload codec)
 * instead of the plain-text fields of Temporal's Failure: an error message quoting a customer's name is
 * encrypted like the customer. Temporal loads this module by path (`failureConverterPath`): the workers
 * bundle it into the workflow sandbox and every client and worker requires it, so it is plain CommonJS
 * that Node, tsx, the test runner and the workflow bundler all load as it is.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
