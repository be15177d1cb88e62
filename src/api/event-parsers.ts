import {
  parseInventoryEvent,
  parseSalesforceEvent,
  parseSapEvent,
  SourceEventError,
} from '../domain/source-events';
import type { ParsedSourceEvent } from '../domain/source-events';
import type { SourceSystem } from '../domain/entity-event';

export { eventSourceSystems as eventSources } from '../systems/catalog';

const parsers: Record<
  SourceSystem,
  (body: unknown, webhookId: string, receivedAt: string) => ParsedSourceEvent
> = {
  salesforce: parseSalesforceEvent,
  sap: parseSapEvent,
  inventory: parseInventoryEvent,
};

/**
 * A verified request body (the exact bytes that were signed) to `EntityEvent`s: JSON first, then the
 * source's schema. Throws `SourceEventError` with the reason when the body is not an event of this source.
 */
export function parseSourceRequest(
  source: SourceSystem,
  rawBody: Buffer,
  webhookId: string,
  receivedAt: string,
): ParsedSourceEvent {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch (err) {
    throw new SourceEventError(`the body is not valid JSON: ${(err as Error).message}`);
  }
  return parsers[source](body, webhookId, receivedAt);
}
