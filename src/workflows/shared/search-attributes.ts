import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes: how an operator finds a run in the Web UI by business key
 * (`IntegrationFlow = 'customer-creation' AND BusinessKey = 'crm-import-42'`). They are registered on
 * the dev server at start-up and in tests; on a real cluster, see docs/operations.md. Never put
 * personal data here: search attributes are not encrypted by payload codecs.
 */
export const IntegrationFlow = defineSearchAttributeKey('IntegrationFlow', SearchAttributeType.KEYWORD);
export const BusinessKey = defineSearchAttributeKey('BusinessKey', SearchAttributeType.KEYWORD);
export const IntegrationStep = defineSearchAttributeKey('IntegrationStep', SearchAttributeType.KEYWORD);
export const SalesforceId = defineSearchAttributeKey('SalesforceId', SearchAttributeType.KEYWORD);
export const SapCustomerNumber = defineSearchAttributeKey('SapCustomerNumber', SearchAttributeType.KEYWORD);
export const SapOrderNumber = defineSearchAttributeKey('SapOrderNumber', SearchAttributeType.KEYWORD);
/** The caller's Idempotency-Key of the request that started the run (API idempotency). */
export const IdempotencyKey = defineSearchAttributeKey('IdempotencyKey', SearchAttributeType.KEYWORD);

export const allSearchAttributes = [
  IntegrationFlow,
  BusinessKey,
  IntegrationStep,
  SalesforceId,
  SapCustomerNumber,
  SapOrderNumber,
  IdempotencyKey,
] as const;
