/** Change Data Capture: committed changes become change events, one transaction key per API transaction. */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SalesforceOrg } from './org';
import { SCHEMA } from './schema';
import type { Change } from './store';
import type { ChangeEvent } from './types';

export function createChangeEvents(
  org: SalesforceOrg,
  /** Also told of every committed transaction (the Pub/Sub API's change events). */
  onTransaction?: (
    changes: Change[],
    tx: { transactionKey: string; commitNumber: number; changeOrigin: string },
  ) => void,
) {
  const { options, events, changeLog } = org;
  const schemaIdFor = (entity: string) =>
    createHash('sha256').update(`${entity}ChangeEvent`).digest('base64url').slice(0, 22);

  /** Publishes committed changes as CDC events, one transaction key per API transaction. */
  const publish = (changes: Change[], changeOrigin: string) => {
    if (changes.length === 0) return;
    const transactionKey = randomUUID();
    org.commitNumber += 1;
    onTransaction?.(changes, { transactionKey, commitNumber: org.commitNumber, changeOrigin });
    changes.forEach((c, i) => {
      org.replayId += 1;
      const def = SCHEMA.get(c.entityName)!;
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.values)) {
        const f = def.byLowerName.get(k.toLowerCase())!;
        // CDC JSON carries datetimes as ISO-8601 with Z, not the REST API's +0000.
        body[k] = f.type === 'datetime' && typeof v === 'number' ? new Date(v).toISOString() : v;
      }
      const event: ChangeEvent = {
        schema: schemaIdFor(c.entityName),
        channel: `/data/${c.entityName}ChangeEvent`,
        payload: {
          ChangeEventHeader: {
            entityName: c.entityName,
            recordIds: [c.id],
            changeType: c.changeType,
            changeOrigin,
            transactionKey,
            sequenceNumber: i + 1,
            commitTimestamp: c.at,
            commitNumber: org.commitNumber,
            commitUser: c.userId,
            changedFields: c.changedFields,
            nulledFields: [],
            diffFields: [],
          },
          ...body,
        },
        event: { replayId: org.replayId },
      };
      changeLog.push(event);
      events.send('salesforce.change', event, `sfcdc_${options.orgId}_${org.replayId}`);
    });
  };

  const apiOrigin = (req: FastifyRequest, version: string) => {
    const callOptions = req.headers['sforce-call-options'];
    const client = /(?:^|,)\s*client=([^,]+)/.exec(
      Array.isArray(callOptions) ? callOptions.join(',') : (callOptions ?? ''),
    );
    return `com/salesforce/api/rest/${version}${client ? `;client=${client[1]!.trim()}` : ''}`;
  };
  return { publish, apiOrigin };
}
