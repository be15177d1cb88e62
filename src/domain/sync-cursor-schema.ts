import { z } from 'zod';
import type { SyncDirection } from './batch-sync';

/**
 * The batch sync's cursors as the API accepts them (setting a sync's position by hand). Kept apart from
 * batch-sync.ts, which the workflows import, so that a workflow start does not build zod schemas it
 * never uses.
 */

/**
 * An ISO-8601 instant with an offset, milliseconds at most. The pattern is the whole rule (every string
 * it matches is a date JavaScript parses), so the OpenAPI document, generated from it, states it exactly.
 */
const isoInstant = z
  .string()
  .regex(
    /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,3})?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/,
    'must be an ISO-8601 instant such as 2026-01-31T12:00:00Z',
  );

export const salesforceCursorSchema = z
  .object({
    system: z.literal('salesforce'),
    systemModstamp: isoInstant,
    id: z
      .string()
      .regex(/^(|[0-9A-Za-z]{15}|[0-9A-Za-z]{18})$/, 'must be a 15- or 18-character Salesforce id'),
  })
  .strict();

export const sapCursorSchema = z
  .object({
    system: z.literal('sap'),
    createdAt: isoInstant,
    pointer: z.string().regex(/^\d{1,20}$/, 'must be a change pointer number (CPIDENT, up to 20 digits)'),
  })
  .strict();

/** The cursor schema for the system a direction reads from. */
export function cursorSchemaFor(direction: SyncDirection) {
  return direction === 'salesforce-to-sap' ? salesforceCursorSchema : sapCursorSchema;
}
