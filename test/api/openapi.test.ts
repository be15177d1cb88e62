import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeScopes } from '../../src/api/access';
import { startDocumentedApi } from '../support/api';
import type { DocumentedApi } from '../support/api';
import { uniquePrefix } from '../support/temporal';

interface Operation {
  'x-route'?: string;
  parameters?: { name: string; in: string; required?: boolean; schema: Record<string, unknown> }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any> } };

/**
 * The OpenAPI document against the API it describes: every route is in it, the customer schema carries
 * the refinements the API applies, and the statuses the API really answers (provoked here over HTTP on
 * a real Temporal server) are the documented ones.
 */
describe('OpenAPI document', () => {
  let documented: DocumentedApi<Doc>;
  let api: DocumentedApi<Doc>['api'];
  let doc: Doc;
  const prefix = uniquePrefix('openapi');

  beforeAll(async () => {
    documented = await startDocumentedApi<Doc>({ taskQueuePrefix: prefix });
    ({ api, doc } = documented);
  });
  afterAll(() => documented?.close());

  const operation = (method: string, route: string) =>
    doc.paths[route.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()] ??
    // A route documented once per configured value (the sync cursor: its shape depends on the sync).
    Object.values(doc.paths)
      .map((ops) => ops[method.toLowerCase()])
      .find((op) => op?.['x-route'] === route);

  it('documents every /v1 route and the three signed webhook ingresses', () => {
    for (const route of Object.keys(routeScopes)) {
      const [method, url] = route.split(' ') as [string, string];
      expect(operation(method, url), route).toBeDefined();
    }
    for (const source of ['salesforce', 'sap', 'inventory']) {
      const ingress = operation('POST', `/webhooks/${source}`)!;
      const headers = ingress.parameters!.filter((p) => p.in === 'header' && p.required).map((p) => p.name);
      expect(headers).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
      expect(Object.keys(ingress.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '415']));
    }
  });

  it('the customer schema carries the refinements: e-mail format, phone pattern, country codes, name lengths', () => {
    const customer = doc.components.schemas.Customer;
    expect(customer.properties.email).toMatchObject({ format: 'email', maxLength: 241 });
    const phone = new RegExp(customer.properties.phone.pattern as string);
    expect(phone.test('+44 20 7946 0958')).toBe(true);
    expect(phone.test('020 7946 0958')).toBe(false); // the API refuses national numbers too
    const countries = customer.properties.address.properties.country.enum as string[];
    expect(countries).toEqual(expect.arrayContaining(['GB', 'DE', 'US']));
    expect(countries).not.toContain('ZZ');
    expect(customer.then.properties.firstName.maxLength).toBe(17);
  });

  it.each([
    ['GET', '/v1/runs?businessKey=%00', undefined, 400],
    ['GET', '/v1/runs?status=LOST', undefined, 400],
    ['GET', '/v1/runs/not-a-run-of-this-service', undefined, 404],
    ['POST', '/v1/runs/not-a-run-of-this-service/cancel', undefined, 404],
    ['POST', '/v1/runs/not-a-run-of-this-service/redrive', undefined, 404],
    ['POST', '/v1/customers', { reference: 'x' }, 400],
    ['POST', '/v1/customers', 'plain text', 415],
    ['POST', '/v1/connectivity-checks', { systems: ['nowhere'] }, 400],
    ['POST', '/v1/flows/customerCreation/runs', { reference: 'x' }, 400],
    ['POST', '/v1/flows/reconciliation/runs', { driftThreshold: -1 }, 400],
    ['POST', '/v1/flows/customerDeletion/runs', {}, 404],
    ['POST', '/v1/flows/accountSync/runs', {}, 409],
  ] as const)('%s %s answers a documented status (%#)', async (method, path, body, expected) => {
    const headers: Record<string, string> =
      typeof body === 'string' ? { 'content-type': 'application/xml' } : {};
    const res = await api.call(method, path, body, headers);
    expect(res.status).toBe(expected);
    const concrete = path.split('?')[0]!.replace(/\/v1\/runs\/[^/]+/, '/v1/runs/{workflowId}');
    // A startable flow has a path of its own; any other type is answered by the templated one.
    const route = doc.paths[concrete]
      ? concrete
      : concrete.replace(/^\/v1\/flows\/[^/]+/, '/v1/flows/{type}');
    expect(Object.keys(doc.paths[route]![method.toLowerCase()]!.responses)).toContain(String(expected));
  });

  it('documents each startable flow with the input schema the route validates with, and its scopes', () => {
    const generic = operation('POST', '/v1/flows/:type/runs')!;
    expect(generic.parameters!.find((p) => p.name === 'type')!.schema.enum).toEqual(
      expect.arrayContaining(['customerCreation', 'accountSync']),
    );
    const customer = operation('POST', '/v1/flows/customerCreation/runs') as any;
    expect(customer['x-required-scope']).toBe('flows:start');
    expect(customer.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Customer',
    });
    const reconciliation = operation('POST', '/v1/flows/reconciliation/runs') as any;
    expect(reconciliation['x-flow-scope']).toBe('runs:operate');
    expect(doc.components.schemas.ReconciliationInput.properties.driftThreshold).toMatchObject({
      type: 'integer',
      minimum: 0,
    });
    expect(doc.components.schemas.NotificationDeliveryInput.required).toEqual(
      expect.arrayContaining(['sourceKey', 'type', 'data', 'occurredAt']),
    );
    expect(operation('POST', '/v1/flows/accountSync/runs')).toBeUndefined();
  });

  it('documents 401, 403 and 429 on every /v1 operation', async () => {
    const res = await fetch(`${api.baseUrl}/v1/runs`);
    expect(res.status).toBe(401);
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const op of Object.values(operations))
        expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
  });
});
