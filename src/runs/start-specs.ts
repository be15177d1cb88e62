import { z } from 'zod';
import { safeText } from '../api/params';
import { customerSchema } from '../domain/customer';
import type { AccessScope } from '../security/access-keys';
import type * as workflows from '../workflows';
import {
  customerCreationStartOptions,
  customerCreationWorkflowId,
} from '../workflows/customer-creation.messages';
import type { NotificationRetry } from '../workflows/customer-creation.messages';
import { notificationWorkflowId } from '../workflows/notification-delivery.messages';
import type { ActivityRoutes } from '../workflows/shared/task-queues';
import type { ServiceWorkflowType } from '../workflows/workflow-types';

/**
 * How a caller starts each flow (`POST /v1/flows/{type}/runs`, src/runs/start.ts): the input schema the
 * body is validated with, the run's business key and workflow id, and the workflow input built from the
 * body. A record over every workflow type, so a new workflow without an entry does not compile; flows
 * that callers do not start say why, as the flows registry's redrive rule does. Kept out of
 * src/workflows/ (bundled into the workflow sandbox) because it holds the zod schemas.
 */

/** What the API knows when it starts a run: its queue and the settings every run of a flow gets. */
export interface StartContext {
  /** This service's coordinator task queue: every run starts there. */
  workflowQueue: string;
  /** Base URL of the Temporal Web UI, for links in alerts. */
  temporalUiUrl: string;
  notificationRetry?: NotificationRetry;
  activityRoutes?: ActivityRoutes;
}

/** The input the exported workflow function takes: the compiler checks each flow's `input` against it. */
export type WorkflowInput<K extends ServiceWorkflowType> = Parameters<(typeof workflows)[K]>[0];

/**
 * Which run a start is, so that starting twice is safe:
 * - `business-key`: the workflow id derives from the body (one run per business record); the same body
 *   sent again answers the existing run, another body for the same key a conflict;
 * - `per-request`: a new run per request; with an `Idempotency-Key` header the id derives from that key,
 *   so a repeated request answers the run it started instead of starting another.
 */
export type RunIdentity<B> =
  | { kind: 'business-key'; workflowId: (body: B) => string }
  | { kind: 'per-request'; workflowId: (requestKey: string) => string };

export interface StartableFlow<B, I> {
  startable: true;
  /** What a start does, for the OpenAPI document. */
  summary: string;
  /**
   * The scope a key needs besides `flows:start` (which the route needs): `runs:operate` for flows that
   * act on many records or announce events to every subscriber.
   */
  scope: Extract<AccessScope, 'flows:start' | 'runs:operate'>;
  /** The request body: validated and normalised by this schema, documented from it. */
  body: z.ZodType<B>;
  /** Words for the answers: `the customer is invalid`, `this customer reference ...`. */
  names: { input: string; key: string };
  identity: RunIdentity<B>;
  /** The BusinessKey search attribute (what an operator searches by). */
  businessKey: (body: B) => string;
  /** The workflow's input. */
  input: (body: B, context: StartContext) => I;
  /** The run's summary in the Temporal Web UI. */
  staticSummary: (body: B) => string;
}

export interface NotStartable {
  startable: false;
  /** Why callers do not start it, and what to do instead (answered with a 409). */
  reason: string;
}

export type StartSpec<I = unknown> = NotStartable | StartableFlow<any, I>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A startable flow, with its body type inferred from its schema. */
const startable = <B, I>(spec: Omit<StartableFlow<B, I>, 'startable'>): StartableFlow<B, I> => ({
  startable: true,
  ...spec,
});

const isoInstant = z
  .string()
  .max(40)
  .refine((v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 instant')
  .meta({ format: 'date-time' });

/** The body of a notification: one event for every subscriber of its type. */
export const notificationBody = z
  .object({
    /** What the event is about: with the type it fixes the webhook-id, so subscribers deduplicate. */
    sourceKey: safeText(200),
    type: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/, 'type must be an event type such as order.updated')
      .max(64),
    data: z.record(z.string(), z.unknown()),
    occurredAt: isoInstant,
  })
  .strict();

/** The body of a reconciliation (also `POST /v1/reconciliations`). */
export const reconciliationBody = z
  .object({ selfHeal: z.boolean().default(false), driftThreshold: z.number().int().min(0).default(10) })
  .strict();

const entityFlow: NotStartable = {
  startable: false,
  reason:
    'an entity workflow is started by the events of its record: send them to POST /webhooks/<source> (or the CDC subscriber does)',
};

export const startSpecs = {
  customerCreation: startable({
    summary: 'Create a customer in Salesforce and SAP (and billing), then announce it',
    scope: 'flows:start',
    body: customerSchema,
    names: { input: 'the customer', key: 'customer reference' },
    identity: { kind: 'business-key', workflowId: (c) => customerCreationWorkflowId(c.reference) },
    businessKey: (c) => c.reference,
    input: (customer, ctx) => ({
      customer,
      customerValidated: true,
      temporalUiUrl: ctx.temporalUiUrl,
      notificationRetry: ctx.notificationRetry,
      ...(ctx.activityRoutes ? { routes: ctx.activityRoutes } : {}),
    }),
    staticSummary: (c) => customerCreationStartOptions(c, '').staticSummary,
  }),
  notificationDelivery: startable({
    summary:
      'Announce one event to every webhook subscriber of its type, signed, with a webhook-id fixed by type and sourceKey',
    scope: 'runs:operate',
    body: notificationBody,
    names: { input: 'the event', key: 'event (type and sourceKey)' },
    identity: { kind: 'business-key', workflowId: (e) => notificationWorkflowId(e.sourceKey, e.type) },
    businessKey: (e) => e.sourceKey,
    input: (event) => event,
    staticSummary: (e) => `Announce ${e.type} for ${e.sourceKey}`,
  }),
  reconciliation: startable({
    summary: 'Reconcile customers between Salesforce and SAP; report drift, optionally repair it',
    scope: 'runs:operate',
    body: reconciliationBody,
    names: { input: 'the reconciliation request', key: 'reconciliation (Idempotency-Key)' },
    identity: { kind: 'per-request', workflowId: (requestKey) => `reconciliation:customers:${requestKey}` },
    businessKey: () => 'customers',
    input: (body) => ({ name: 'customers', ...body }),
    staticSummary: (body) => `Reconcile customers${body.selfHeal ? ' (self-heal)' : ''}`,
  }),
  connectivityCheck: {
    startable: false,
    reason:
      'a connectivity check probes only the configured systems and is rate-limited across callers: start it with POST /v1/connectivity-checks',
  },
  accountSync: entityFlow,
  orderSync: entityFlow,
  inventorySync: entityFlow,
  batchSync: {
    startable: false,
    reason: 'a batch sync is run by its Schedule: trigger it with POST /v1/syncs/{name}/trigger',
  },
  syncState: {
    startable: false,
    reason: "a sync's state workflow is started by the sync's runs, never by a caller",
  },
  cdcSubscription: {
    startable: false,
    reason: 'the CDC subscription state is started by the CDC subscriber (npm run cdc)',
  },
  stuckRunDetector: {
    startable: false,
    reason: "the stuck-run detector is run by its Schedule: trigger the 'stuck-runs' Schedule to look now",
  },
  bulkRedrive: {
    startable: false,
    reason: 'a bulk redrive is started by POST /v1/failed-runs/redrive, which reports its progress',
  },
  stuckRunAlert: {
    startable: false,
    reason: 'an alert about a stuck run is started by the stuck-run detector, once per run',
  },
} as const satisfies { [K in ServiceWorkflowType]: StartSpec<WorkflowInput<K>> };

/** The start spec of a workflow type. */
export function startSpecOf(type: ServiceWorkflowType): StartSpec {
  return startSpecs[type];
}
