import { routeScope } from './access';
import { z } from 'zod';
import { customerSchema } from '../domain/customer';
import { cursorSchemaFor } from '../domain/sync-cursor-schema';
import { reportQuery } from '../report/report';
import type { ConfiguredSync } from '../schedules/specs';
import type { ConnectivityTarget } from '../workflows/connectivity-check.messages';
import { reconciliationBody } from '../runs/start-specs';
import { backfillBody, redriveBody } from './syncs';
import { connectivityBody } from './routes/connectivity-checks';
import { bulkRedriveBody, failedRunsQuery } from './routes/failed-runs';
import { listQuery } from './routes/runs';
import { startSpecs } from '../runs/start-specs';
import type { StartableFlow } from '../runs/start-specs';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

const started = {
  type: 'object',
  required: ['workflowId', 'runId', 'statusUrl'],
  properties: { workflowId: { type: 'string' }, runId: { type: 'string' }, statusUrl: { type: 'string' } },
};
const error = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    details: { description: 'field errors ({path, message}[]) or context' },
  },
};
const run = {
  type: 'object',
  required: ['workflowId', 'runId', 'workflowType', 'status', 'startTime', 'webUiUrl'],
  properties: {
    workflowId: { type: 'string' },
    runId: { type: 'string' },
    workflowType: { type: 'string' },
    status: {
      enum: ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'],
    },
    step: { type: 'string', description: 'current step while RUNNING' },
    startTime: { type: 'string', format: 'date-time' },
    closeTime: { type: 'string', format: 'date-time' },
    result: { description: 'the workflow result when COMPLETED' },
    failure: { type: 'object', properties: { type: { type: 'string' }, message: { type: 'string' } } },
    webUiUrl: { type: 'string', format: 'uri' },
  },
};
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
/** The rules of `safeText` (src/api/params.ts), which zod's refinements cannot carry into JSON Schema. */
const safeTextSchema = (maxBytes: number) => ({
  type: 'string',
  minLength: 1,
  maxLength: maxBytes,
  pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$',
  description: `no control characters; at most ${maxBytes} bytes in UTF-8`,
});
const runIdParam = [{ name: 'workflowId', in: 'path', required: true, schema: safeTextSchema(255) }];

/** Query parameters from the zod schema the route parses its query with (descriptions by name). */
function queryParameters(schema: z.ZodType, descriptions: Record<string, string> = {}) {
  const properties = (json(schema) as { properties: Record<string, Record<string, unknown>> }).properties;
  return Object.entries(properties).map(([name, prop]) => ({
    name,
    in: 'query',
    required: false,
    schema: name === 'businessKey' ? safeTextSchema(255) : prop,
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
  }));
}

/** A request body schema from the zod schema the route parses its body with. */
function bodySchema(schema: z.ZodType) {
  const { $schema: _, ...rest } = json(schema) as Record<string, unknown>;
  return rest;
}

/** Rules between fields, which JSON Schema cannot state: the API refuses a request breaking them with 400. */
const rangeRule = '`from` must be before `to` (400 otherwise)';
const reportRangeRule =
  '`from` (default: `to` minus `window`) must be before `to` (default: now), at most 31 days apart (400 otherwise)';

/** The scheduled-sync operations, for the configured syncs (their names are the path parameter's values). */
function syncPaths(syncs: readonly ConfiguredSync[]) {
  const names = syncs.map((s) => s.spec.name);
  const paths: Record<string, Record<string, unknown>> = {
    '/v1/syncs': {
      get: {
        summary: 'The scheduled syncs: schedule, cursor, lag, quarantine size, last run',
        responses: { '200': { description: '{ syncs }' } },
      },
    },
  };
  if (names.length === 0) return paths;
  const name = [{ name: 'name', in: 'path', required: true, schema: { type: 'string', enum: names } }];
  const unknown = errorResponse('no sync with this name');
  const missingSchedule = errorResponse('the sync has no Schedule (npm run schedules:apply)');
  paths['/v1/syncs/{name}'] = {
    get: {
      summary: "A sync's state, its running run's progress and its recent runs",
      parameters: name,
      responses: { '200': { description: 'the sync' }, '404': unknown },
    },
  };
  paths['/v1/syncs/{name}/quarantine'] = {
    get: {
      summary: 'The records a sync could not write, with the reason',
      parameters: name,
      responses: { '200': { description: '{ name, records }' }, '404': unknown },
    },
  };
  paths['/v1/syncs/{name}/trigger'] = {
    post: {
      summary: 'Start a run now (ignored while one is going)',
      parameters: name,
      responses: { '202': { description: 'triggered' }, '400': unknown, '409': missingSchedule },
    },
  };
  for (const action of ['pause', 'resume'])
    paths[`/v1/syncs/{name}/${action}`] = {
      post: {
        summary: `${action === 'pause' ? 'Pause' : 'Resume'} the sync's Schedule`,
        parameters: name,
        responses: { '200': { description: '{ name, paused }' }, '400': unknown, '409': missingSchedule },
      },
    };
  paths['/v1/syncs/{name}/backfill'] = {
    post: {
      summary: 'Re-read a time range as a run of its own',
      description: rangeRule,
      parameters: name,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: bodySchema(backfillBody) } },
      },
      responses: {
        '202': {
          description: 'backfill started',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Started' } } },
        },
        '400': errorResponse('an unknown sync, or an invalid range'),
        '409': errorResponse('a backfill of this range is already running'),
      },
    },
  };
  paths['/v1/syncs/{name}/quarantine/redrive'] = {
    post: {
      summary: 'Write the quarantined records again (all, or those named)',
      description: 'each named record must be in the quarantine (400 not_quarantined otherwise)',
      parameters: name,
      requestBody: {
        required: false,
        content: { 'application/json': { schema: bodySchema(redriveBody) } },
      },
      responses: {
        '202': { description: 'redrive started' },
        '400': errorResponse('an unknown sync, an invalid body, or a record not in the quarantine'),
      },
    },
  };
  // One path per sync: the cursor's shape depends on the system the sync reads from.
  for (const sync of syncs)
    paths[`/v1/syncs/${sync.spec.name}/cursor`] = {
      put: {
        'x-route': '/v1/syncs/:name/cursor',
        summary: `Set or clear (null) the cursor of ${sync.spec.name}`,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['cursor'],
                properties: {
                  cursor: { anyOf: [{ type: 'null' }, bodySchema(cursorSchemaFor(sync.spec.direction))] },
                },
              },
            },
          },
        },
        responses: {
          '200': { description: '{ name, cursor }' },
          '400': errorResponse('not a cursor of this sync'),
        },
      },
    };
  return paths;
}

interface Operation {
  'x-required-scope'?: string;
  parameters?: { in: string }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

/**
 * The answers every /v1 operation shares, added where an operation does not describe them itself: 401
 * (no valid key), 403 (the key lacks the operation's scope, named in `x-required-scope`), 429 (the key's
 * rate, with Retry-After), all from `src/api/access.ts`; 503 when Temporal does not answer in time
 * (src/api/errors.ts); 400 for an invalid path parameter and 404 for a run that is not this service's;
 * 415 for a body that is not JSON.
 */
function withCommonAnswers<D extends { paths: Record<string, Record<string, Operation>> }>(doc: D): D {
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const [method, operation] of Object.entries(operations)) {
      // A flow's own start path (/v1/flows/customerCreation/runs) names its scope itself; a path documented
      // once per configured value (a sync's cursor) names the route it is an instance of.
      const route = (operation as { 'x-route'?: string })['x-route'] ?? path.replace(/\{(\w+)\}/g, ':$1');
      const scope = operation['x-required-scope'] ?? routeScope(method.toUpperCase(), route);
      const inPath = operation.parameters?.some((p) => p.in === 'path');
      Object.assign(operation, {
        'x-required-scope': scope,
        responses: {
          ...(inPath ? { '400': errorResponse('an invalid path parameter') } : {}),
          '401': errorResponse('missing or invalid key or token'),
          '403': errorResponse(`the key does not hold the ${scope} scope`),
          ...(path.includes('{workflowId}')
            ? { '404': errorResponse('no run of this service with this id') }
            : {}),
          ...(operation.requestBody ? { '415': errorResponse('the body is not application/json') } : {}),
          '429': errorResponse("over the key's rate limit; see Retry-After"),
          '503': errorResponse('Temporal did not answer in time; see Retry-After'),
          ...operation.responses,
        },
      });
    }
  }
  return doc;
}

/** The flows callers may start (src/runs/start-specs.ts), by workflow type. */
const startableFlows = Object.entries(startSpecs).flatMap(([type, spec]) =>
  spec.startable ? [[type, spec as StartableFlow<unknown, unknown>] as const] : [],
);
const inputSchemaName = (type: string) =>
  type === 'customerCreation' ? 'Customer' : `${type[0]!.toUpperCase()}${type.slice(1)}Input`;
const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
  description:
    'The same key and body return the same run; the same key with another body is 422. For a flow started per request, the run id derives from the key.',
};
const startAnswers = (scopeNote: string) => ({
  '202': {
    description: 'run started',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Started' } } },
  },
  '200': {
    description: 'the same request was already accepted: its run (`existing: true`, `status`)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Started' } } },
  },
  '400': errorResponse("invalid body (the flow's input schema): every issue in details"),
  '403': errorResponse(scopeNote),
  '409': errorResponse(
    'the business key already has a run with different data, or (not_startable) the flow is not started by callers: the reason says what to do instead',
  ),
  '422': errorResponse('Idempotency-Key reused with a different body'),
});

/** `POST /v1/flows/{type}/runs`, and one path per startable flow with its own input schema. */
function flowStartPaths() {
  const perFlow = Object.fromEntries(
    startableFlows.map(([type, spec]) => [
      `/v1/flows/${type}/runs`,
      {
        post: {
          summary: spec.summary,
          'x-required-scope': 'flows:start',
          ...(spec.scope === 'flows:start' ? {} : { 'x-flow-scope': spec.scope }),
          parameters: [idempotencyKeyHeader],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${inputSchemaName(type)}` } },
            },
          },
          responses: startAnswers(
            spec.scope === 'flows:start'
              ? 'the key does not hold the flows:start scope'
              : `the key does not hold flows:start and ${spec.scope} (this flow needs both)`,
          ),
        },
      },
    ]),
  );
  return {
    '/v1/flows/{type}/runs': {
      post: {
        summary:
          'Start a run of any flow callers may start, with its input as the body (the per-flow paths give each schema); flows started otherwise answer 409 with the reason',
        parameters: [
          {
            name: 'type',
            in: 'path',
            required: true,
            schema: { type: 'string', enum: Object.keys(startSpecs) },
            description: `the workflow type; startable: ${startableFlows.map(([t]) => t).join(', ')}`,
          },
          idempotencyKeyHeader,
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: startableFlows.map(([type]) => ({
                  $ref: `#/components/schemas/${inputSchemaName(type)}`,
                })),
              },
            },
          },
        },
        responses: {
          ...startAnswers(
            "the key does not hold flows:start, or the flow's own scope (x-flow-scope of its path)",
          ),
          '404': errorResponse('no flow of this type'),
        },
      },
    },
    ...perFlow,
  };
}

/** The input schemas of the startable flows (the customer's is `Customer`). */
const flowInputSchemas = () =>
  Object.fromEntries(
    startableFlows
      .filter(([type]) => type !== 'customerCreation')
      .map(([type, spec]) => [inputSchemaName(type), json(spec.body)]),
  );

/** `POST /webhooks/<source>`: signed by the source (Standard Webhooks), no bearer key. */
const webhookIngress = (source: string) => ({
  post: {
    security: [],
    summary: `Events from ${source}, signed per Standard Webhooks with ${source}'s own secret`,
    parameters: [
      {
        name: 'webhook-id',
        in: 'header',
        required: true,
        schema: { type: 'string', minLength: 1 },
        description: 'the event id; a repeated id is applied once',
      },
      {
        name: 'webhook-timestamp',
        in: 'header',
        required: true,
        schema: { type: 'string', pattern: '^[0-9]+$' },
        description: 'unix seconds; refused outside a 5 minute tolerance',
      },
      {
        name: 'webhook-signature',
        in: 'header',
        required: true,
        schema: { type: 'string', pattern: '^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$' },
        description: 'space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`',
      },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { type: 'object' } } },
    },
    responses: {
      '200': { description: 'received: delivered to the record workflows, or ignored with the reason' },
      '400': errorResponse('stale or invalid timestamp, or a body that is not an event of this source'),
      '401': errorResponse('missing or invalid signature'),
      '415': errorResponse('the body is not application/json'),
      '503': errorResponse('Temporal did not take the event; the source redelivers'),
    },
  },
});

export interface OpenApiOptions {
  /** The configured systems a connectivity check may name (the document lists them). */
  connectivityTargets?: readonly ConnectivityTarget[];
  /** The configured batch syncs (`/v1/syncs/...`). */
  syncs?: readonly ConfiguredSync[];
  /** Whether `GET /v1/report` is served. */
  report?: boolean;
}

/** The API's OpenAPI 3.1 document; request bodies come from the same zod schemas that validate them. */
export function openApiDocument(options: OpenApiOptions = {}) {
  return withCommonAnswers({
    openapi: '3.1.0',
    info: {
      title: 'integration-coordinator',
      version: '0.1.0',
      description:
        'Starts and inspects durable integration runs (Temporal workflows). Every /v1 call needs `Authorization: Bearer <key>`: an access key holding the scope the operation names in `x-required-scope` (ACCESS_KEYS), or the single API_TOKEN.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Customer: json(customerSchema),
        ...flowInputSchemas(),
        Started: started,
        Run: run,
        Error: error,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': {
        get: {
          security: [],
          summary: 'Liveness and Temporal connection state',
          responses: { '200': { description: 'connected' }, '503': { description: 'Temporal unreachable' } },
        },
      },
      '/webhooks/salesforce': webhookIngress('salesforce'),
      '/webhooks/sap': webhookIngress('sap'),
      '/webhooks/inventory': webhookIngress('inventory'),
      '/v1/customers': {
        post: {
          summary: 'Create a customer in Salesforce and SAP, then announce it (customer-creation saga)',
          parameters: [idempotencyKeyHeader],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Customer' } } },
          },
          responses: {
            ...startAnswers('the key does not hold the flows:start scope'),
            '401': errorResponse('missing or wrong token'),
            '409': errorResponse('the reference already has a run with different data'),
          },
        },
      },
      ...flowStartPaths(),
      '/v1/runs': {
        get: {
          summary: 'List runs (visibility query)',
          parameters: queryParameters(listQuery),
          responses: {
            '200': { description: 'runs, newest first' },
            '400': errorResponse('an invalid query parameter: each one named in details'),
          },
        },
      },
      '/v1/failed-runs': {
        get: {
          summary: 'Failed runs by flow, close-time range and failure type, one page at a time',
          description: rangeRule,
          parameters: queryParameters(failedRunsQuery, {
            from: rangeRule,
            pageToken:
              'the nextPageToken of an earlier answer, unchanged; any other value is refused with 400 (parameter: pageToken)',
          }),
          responses: {
            '200': { description: '{ runs, nextPageToken? }: follow nextPageToken until it is absent' },
            '400': errorResponse('a parameter is out of range, or the page token is not one of ours'),
          },
        },
      },
      '/v1/failed-runs/redrive': {
        post: {
          summary: 'Bulk redrive of the failed runs a filter matches, as a workflow at a bounded rate',
          description: rangeRule,
          requestBody: {
            required: false,
            content: { 'application/json': { schema: bodySchema(bulkRedriveBody) } },
          },
          responses: {
            '202': { description: '{ workflowId, statusUrl }: the bulk redrive started' },
            '400': errorResponse('a field is out of range'),
          },
        },
      },
      '/v1/failed-runs/redrive/{workflowId}': {
        get: {
          summary: 'Status and progress of a bulk redrive',
          parameters: runIdParam,
          responses: {
            '200': { description: '{ workflowId, status, progress }' },
            '404': errorResponse('no such bulk redrive'),
          },
        },
      },
      '/v1/runs/{workflowId}': {
        get: {
          summary: 'Status, current step, result or failure of a run',
          parameters: runIdParam,
          responses: {
            '200': {
              description: 'the run',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Run' } } },
            },
            '404': errorResponse('no such run'),
          },
        },
      },
      '/v1/runs/{workflowId}/cancel': {
        post: {
          summary: 'Cancel a running run; its compensations run',
          parameters: runIdParam,
          responses: {
            '202': { description: 'cancellation requested' },
            '404': errorResponse('no such run'),
            '409': errorResponse('not running'),
          },
        },
      },
      '/v1/runs/{workflowId}/redrive': {
        post: {
          summary:
            'Redrive a run as its flow defines: restart a failed/cancelled run with its original input, or redeliver the notifications a completed run gave up on; flows that cannot be redriven (entity, scheduled and state workflows, connectivity checks) answer 409 saying what to do instead',
          parameters: runIdParam,
          responses: {
            '202': { description: 'redrive started' },
            '404': errorResponse('no such run'),
            '409': errorResponse('nothing to redrive, or not redrivable'),
          },
        },
      },
      '/v1/reconciliations': {
        post: {
          summary: 'Compare Salesforce and SAP customers (a run); optionally heal the drift it finds',
          requestBody: {
            required: false,
            content: { 'application/json': { schema: bodySchema(reconciliationBody) } },
          },
          responses: {
            '202': {
              description: 'run started',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Started' } } },
            },
            '400': errorResponse('invalid body'),
          },
        },
      },
      '/v1/reconciliations/{workflowId}': {
        get: {
          summary: "A reconciliation's report once it has finished",
          parameters: runIdParam,
          responses: {
            '200': { description: '{ workflowId, status, report? }' },
            '202': { description: '{ workflowId, status: RUNNING }' },
            '404': errorResponse('no reconciliation with this id'),
          },
        },
      },
      ...syncPaths(options.syncs ?? []),
      ...(options.report
        ? {
            '/v1/report': {
              get: {
                summary: 'The integration report: what is integrated and how it performed over a window',
                description: reportRangeRule,
                parameters: queryParameters(reportQuery, { from: reportRangeRule }),
                responses: {
                  '200': {
                    description: 'the report',
                    content: { 'application/json': { schema: { type: 'object' } }, 'text/markdown': {} },
                  },
                  '400': errorResponse('an invalid parameter: each one named in details'),
                },
              },
            },
          }
        : {}),
      '/v1/connectivity-checks': {
        post: {
          summary: 'Probe the configured systems (all, or those named) from the workers',
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: bodySchema(connectivityBody(options.connectivityTargets ?? [])),
              },
            },
          },
          responses: {
            '202': {
              description: 'run started',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Started' } } },
            },
            '400': errorResponse('invalid body, or a system that is not configured'),
            '429': errorResponse('too many checks this minute; see Retry-After'),
          },
        },
      },
    },
  });
}
