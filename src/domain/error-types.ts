/**
 * The catalogue of failure types. Every ApplicationFailure the project raises uses one of these strings
 * as its `type` (never a class name, which bundling can change); operators search for them and retry
 * policies list the non-retryable ones. docs/operations.md explains each one.
 */
export const ErrorType = {
  // Input
  InvalidInput: 'InvalidInput',
  // Transient (retryable)
  SystemUnavailable: 'SystemUnavailable',
  RateLimited: 'RateLimited',
  Timeout: 'Timeout',
  // Salesforce (permanent)
  SalesforceRejected: 'SalesforceRejected',
  SalesforceAuthFailed: 'SalesforceAuthFailed',
  // SAP (permanent)
  SapBusinessError: 'SapBusinessError',
  SapAuthFailed: 'SapAuthFailed',
  SapCustomerConflict: 'SapCustomerConflict',
  // Webhooks (permanent)
  WebhookRejected: 'WebhookRejected',
  WebhookSubscriberGone: 'WebhookSubscriberGone',
  // Inventory (permanent)
  InventoryRejected: 'InventoryRejected',
  // Billing (permanent)
  BillingRejected: 'BillingRejected',
  BillingAuthFailed: 'BillingAuthFailed',
  BillingCustomerConflict: 'BillingCustomerConflict',
  // Configuration / programming errors that retrying cannot fix
  Misconfigured: 'Misconfigured',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Types that must never be retried: they are business rejections or bad input. */
export const nonRetryableErrorTypes: ErrorTypeName[] = [
  ErrorType.InvalidInput,
  ErrorType.SalesforceRejected,
  ErrorType.SalesforceAuthFailed,
  ErrorType.SapBusinessError,
  ErrorType.SapAuthFailed,
  ErrorType.SapCustomerConflict,
  ErrorType.WebhookRejected,
  ErrorType.WebhookSubscriberGone,
  ErrorType.InventoryRejected,
  ErrorType.BillingRejected,
  ErrorType.BillingAuthFailed,
  ErrorType.BillingCustomerConflict,
  ErrorType.Misconfigured,
];
