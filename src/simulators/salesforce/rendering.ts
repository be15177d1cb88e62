/** REST responses: records as the API renders them, the Sforce-Limit-Info header, errors and injected faults. */
import type { FastifyReply } from 'fastify';
import type { FaultRule } from '../common/faults';
import {
  requestLimitExceeded,
  serverUnavailable,
  sessionInvalid,
  unableToLockRow,
  unknownException,
} from './errors';
import type { SfError } from './errors';
import type { SalesforceOrg } from './org';
import type { ObjectDef } from './schema';
import type { Row } from './store';
import { renderValue } from './values';

export const JSON_TYPE = 'application/json;charset=UTF-8';

export function createRendering(org: SalesforceOrg) {
  const { usage } = org;
  const render = (def: ObjectDef, row: Row, version: string, fields?: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      attributes: {
        type: def.name,
        url: `/services/data/v${version}/sobjects/${def.name}/${String(row.Id)}`,
      },
    };
    for (const f of def.fields) {
      if (fields && !fields.includes(f.name)) continue;
      out[f.name] = renderValue(f, row[f.name]);
    }
    return out;
  };

  const limitHeader = () => `api-usage=${usage.used()}/${usage.limit}`;

  const send = (reply: FastifyReply, status: number, body?: unknown) => {
    reply.code(status).header('sforce-limit-info', limitHeader());
    if (body === undefined) return reply.send();
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(body));
  };

  const sendError = (reply: FastifyReply, err: SfError) => {
    if (err.status === 401) reply.header('www-authenticate', 'Token');
    return send(reply, err.status, err.toRestBody());
  };

  const faultError = (rule: FaultRule, recordId: string): SfError => {
    switch (rule.kind) {
      case 'server-unavailable':
        return serverUnavailable();
      case 'unable-to-lock-row':
        return unableToLockRow(recordId);
      case 'request-limit-exceeded':
        return requestLimitExceeded();
      case 'session-expired':
        return sessionInvalid();
      default:
        return unknownException();
    }
  };
  return { render, send, sendError, faultError, limitHeader };
}
