/**
 * Salesforce's REST API guide (the "sObject Rows by External ID" resources: GET, POST, PATCH, DELETE)
 * warns that some top-level domains conflict with file-format extensions: an external id value in the
 * URL ending in `.inc` (the guide's example is the e-mail address `example@email.inc`) answers
 * "404 not found", whether or not a record has that value. Only the documented suffix is modelled.
 */
const CONFLICTING_SUFFIXES = ['.inc'];

/** True when Salesforce would answer 404 for this external id value as the last URL segment. */
export function hasConflictingFileSuffix(externalIdValue: string): boolean {
  const lower = externalIdValue.toLowerCase();
  return CONFLICTING_SUFFIXES.some((suffix) => lower.endsWith(suffix) && lower.length > suffix.length);
}
