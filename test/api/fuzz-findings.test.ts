import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { configuredSyncs } from '../../src/schedules/specs';
import { coordinatorQueue, taskQueueName } from '../../src/workflows/shared/task-queues';
import { startDocumentedApi } from '../support/api';
import type { DocumentedApi } from '../support/api';
import { uniquePrefix, workflowIdsOn } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

interface Parameter {
  name: string;
  in: string;
  schema: {
    type?: string;
    format?: string;
    pattern?: string;
    minLength?: number;
    maxLength?: number;
    minimum?: number;
    maximum?: number;
  };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Record<string, any> }> };
  responses: Record<string, unknown>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

/**
 * What the schema-driven fuzzer (scripts/fuzz-api.sh, Schemathesis with all its checks) found, each
 * reproduced over HTTP against a real Temporal server: requests the document calls invalid that the API
 * accepted, requests the document calls valid that the API refused, and a method the API answered
 * neither with 405 nor with a documented status.
 */
describe('OpenAPI document and API agree where the fuzzer found they did not', () => {
  let documented: DocumentedApi<Doc>;
  let t: TemporalTestContext;
  let api: DocumentedApi<Doc>['api'];
  let doc: Doc;
  const prefix = uniquePrefix('fuzzfind');
  const configured = ['sap', 'webhook:consumer'];

  /** Workflow ids started so far on this test's workflow queue. */
  const started = () => workflowIdsOn(t.client, taskQueueName(prefix, coordinatorQueue));
  const parameter = (method: string, path: string, name: string) =>
    doc.paths[path]![method]!.parameters!.find((p) => p.name === name)!;
  /** Whether a value meets a documented string/integer parameter schema (the keywords used here). */
  const meets = (schema: Parameter['schema'], value: string) => {
    if (schema.type === 'integer') {
      const n = Number(value);
      return (
        /^-?\d+$/.test(value) &&
        (schema.minimum === undefined || n >= schema.minimum) &&
        (schema.maximum === undefined || n <= schema.maximum)
      );
    }
    const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
    return (
      (schema.format !== 'date-time' || (rfc3339.test(value) && !Number.isNaN(Date.parse(value)))) &&
      (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value)) &&
      (schema.minLength === undefined || [...value].length >= schema.minLength) &&
      (schema.maxLength === undefined || [...value].length <= schema.maxLength)
    );
  };

  beforeAll(async () => {
    documented = await startDocumentedApi<Doc>({
      taskQueuePrefix: prefix,
      connectivityTargets: configured.map((system) => ({ system, url: 'http://127.0.0.1:9/' })),
    });
    ({ t, api, doc } = documented);
  });
  afterAll(() => documented?.close());

  it('refuses a JSON null body with 400 where the document asks for an object, and starts nothing', async () => {
    for (const path of ['/v1/connectivity-checks', '/v1/failed-runs/redrive']) {
      const res = await api.call('POST', path, 'null');
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toBe('invalid_request');
    }
    expect(await started()).toEqual([]);
  });

  it('refuses a body with a "__proto__" key anywhere with a 400 that names the rule, and starts nothing', async () => {
    // JSON allows the key; the API refuses it (prototype poisoning), and the fuzzer sent it inside an
    // open `data` object. The answer has to say why, not only "not valid JSON".
    const body = JSON.stringify({
      type: 'customer.created',
      occurredAt: new Date().toISOString(),
      sourceKey: uniquePrefix('proto'),
      data: JSON.parse('{"__proto__": {"polluted": true}}'),
    }).replace('"data":{}', '"data":{"__proto__":{"polluted":true}}');
    expect(body).toContain('"__proto__"');
    for (const path of ['/v1/flows/notificationDelivery/runs', '/v1/customers']) {
      const res = await api.call('POST', path, body);
      expect(res.status, path).toBe(400);
      expect(res.body.message, path).toContain('__proto__');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await started()).toEqual([]);
  });

  it('answers 405 with Allow to an undeclared method, QUERY without a Content-Type included', async () => {
    for (const [path, allow] of [
      ['/healthz', 'GET, HEAD'],
      ['/v1/runs', 'GET, HEAD'],
      ['/v1/runs/some-run/cancel', 'POST'],
    ] as const) {
      const res = await fetch(`${api.baseUrl}${path}`, { method: 'QUERY' });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow'), path).toBe(allow);
      expect(((await res.json()) as { error: string }).error).toBe('method_not_allowed');
    }
  });

  it('documents the Idempotency-Key rule the API applies (1-255 visible ASCII characters)', async () => {
    const schema = parameter('post', '/v1/customers', 'Idempotency-Key').schema;
    for (const key of ['order-42/attempt:1', 'x'.repeat(255), 'with space', 'x'.repeat(256), '']) {
      // An empty body is refused either way; the message says whether the key was the reason.
      const res = await api.call('POST', '/v1/customers', {}, { 'idempotency-key': key });
      expect(res.status).toBe(400);
      const keyRefused = String(res.body.message).includes('Idempotency-Key');
      expect(meets(schema, key), `"${key}"`).toBe(!keyRefused);
    }
    expect(await started()).toEqual([]);
  });

  it('documents that names must not be only white space, and that codes are read case-insensitively', async () => {
    const customer = (
      (await api.call('GET', '/openapi.json')).body as {
        components: { schemas: { Customer: { properties: Record<string, Parameter['schema']> } } };
      }
    ).components.schemas.Customer.properties;
    const refusedFields = async (fields: Record<string, string>) => {
      const res = await api.call('POST', '/v1/customers', { reference: 'fuzz-1', ...fields });
      expect(res.status).toBe(400); // e-mail and address are missing: nothing starts
      return (res.body.details as { path: string }[]).map((d) => d.path);
    };
    for (const blank of ['\n', ' \t ', '\ufeff', '\u3000']) {
      expect(meets(customer.lastName!, blank), JSON.stringify(blank)).toBe(false);
      expect(await refusedFields({ firstName: 'Ada', lastName: blank })).toContain('lastName');
    }
    expect(meets(customer.lastName!, ' Lovelace ')).toBe(true);
    expect(await refusedFields({ firstName: 'Ada', lastName: ' Lovelace ' })).not.toContain('lastName');
    for (const [field, value] of [
      ['language', 'en'],
      ['language', ' EN '],
      ['currency', 'gbp'],
    ] as const) {
      expect(meets(customer[field]!, value), `${field}=${value}`).toBe(true);
      expect(await refusedFields({ firstName: 'Ada', lastName: 'Lovelace', [field]: value })).not.toContain(
        field,
      );
    }
    expect(await started()).toEqual([]);
  });

  it('refuses e-mail addresses past the RFC 5321 limits that `format: email` carries', async () => {
    for (const email of [`${'a'.repeat(65)}@example.com`, `ada@${'b'.repeat(64)}.example.com`]) {
      const res = await api.call('POST', '/v1/customers', { reference: 'fuzz-2', email });
      expect(res.status).toBe(400);
      expect((res.body.details as { path: string }[]).map((d) => d.path)).toContain('email');
    }
    const fits = await api.call('POST', '/v1/customers', {
      reference: 'fuzz-2',
      email: `${'a'.repeat(64)}@${'b'.repeat(63)}.example.com`,
    });
    expect((fits.body.details as { path: string }[]).map((d) => d.path)).not.toContain('email');
    expect(await started()).toEqual([]);
  });

  it.each([
    ['flow', ['customer-creation', 'Customer', 'a b', '']],
    ['failureType', ['SapBusinessError', 'x.y_z-1', '9lives', '']],
    ['pageSize', ['1', '100', '0', '101', '2.5']],
    [
      'from',
      [
        '2026-01-01T00:00:00Z',
        '2026-01-01T01:00:00.5+02:00',
        'yesterday',
        '2026-13-45T00:00:00Z',
        '2026-01-01T00:00',
      ],
    ],
  ] as const)(
    'GET /v1/failed-runs: the documented %s parameter accepts what the API accepts',
    async (name, values) => {
      const schema = parameter('get', '/v1/failed-runs', name).schema;
      for (const value of values) {
        const res = await api.call('GET', `/v1/failed-runs?${name}=${encodeURIComponent(value)}`);
        expect(res.status === 200, `${name}=${value}: ${JSON.stringify(res.body)}`).toBe(
          meets(schema, value),
        );
      }
    },
  );

  it('documents the connectivity-check systems: the configured ones, at most as many as there are', async () => {
    const body = doc.paths['/v1/connectivity-checks']!.post!.requestBody!.content['application/json']!.schema;
    expect(body.properties.systems.items.enum).toEqual(configured);
    expect(body.properties.systems.maxItems).toBe(configured.length);
    const tooMany = await api.call('POST', '/v1/connectivity-checks', { systems: ['sap', 'sap', 'sap'] });
    expect(tooMany.status).toBe(400);
    expect(await started()).toEqual([]);
  });

  it('documents the syncs, reconciliations and the report, and refuses what they do not take with a 4xx', async () => {
    const syncs = configuredSyncs(loadConfig({})).map((s) => s.spec.name);
    expect(parameter('post', '/v1/syncs/{name}/trigger', 'name').schema).toMatchObject({ enum: syncs });
    for (const name of syncs) {
      expect(doc.paths[`/v1/syncs/${name}/cursor`]!.put!.responses).toHaveProperty('400');
      // A body that is not an object was a TypeError (500) before.
      for (const body of ['5', '"x"', 'null', '[]']) {
        const res = await api.call('PUT', `/v1/syncs/${name}/cursor`, body);
        expect(res.status, body).toBe(400);
      }
    }
    const nul = await api.call('GET', '/v1/reconciliations/reconciliation:%00');
    expect(nul.status).toBe(400);
    const window = parameter('get', '/v1/report', 'window').schema;
    for (const value of ['15m', '9999m', '744h', '31d', '0m', '015m', '745h', '32d', '1y']) {
      const res = await api.call('GET', `/v1/report?window=${value}&maxRuns=1`);
      expect(res.status === 200, `window=${value}: ${JSON.stringify(res.body?.details)}`).toBe(
        meets(window, value),
      );
    }
    expect(await started()).toEqual([]);
  });

  it('documents the control-character rule of ids and keys, also inside flow inputs', async () => {
    const full = (await api.call('GET', '/openapi.json')).body as {
      components: { schemas: Record<string, { properties: Record<string, Parameter['schema']> }> };
    };
    const sourceKey = full.components.schemas.NotificationDeliveryInput!.properties.sourceKey!;
    expect(meets(sourceKey, 'crm-42')).toBe(true);
    expect(meets(sourceKey, 'crm\u001f42')).toBe(false);
    const res = await api.call('POST', '/v1/flows/notificationDelivery/runs', {
      type: 'customer.created',
      sourceKey: 'crm\u001f42',
      occurredAt: '2026-01-01T00:00:00Z',
      data: {},
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.details)).toContain('sourceKey');
    expect(await started()).toEqual([]);
  });
});
