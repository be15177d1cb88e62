import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { createHash, randomUUID } from 'node:crypto';
import { zodIssues } from '../api/errors';
import { BusinessKey, IdempotencyKey, IntegrationFlow } from '../workflows/shared/search-attributes';
import { flowOf, isServiceWorkflowType } from '../workflows/workflow-types';
import type { ServiceWorkflowType } from '../workflows/workflow-types';
import { startSpecOf } from './start-specs';
import type { StartableFlow, StartContext } from './start-specs';

/**
 * The one way a caller's request becomes a run, for every flow of the registry: validate the body with
 * the flow's schema, derive the workflow id and business key, start on the service's queue with the
 * flow's search attributes, and make a repeated request answer the run it started instead of starting
 * another. `POST /v1/flows/{type}/runs` and `POST /v1/customers` both call it.
 */

export type StartRefusal =
  'unknown_type' | 'not_startable' | 'invalid_request' | 'idempotency_key_reused' | 'conflict';

/** A start that did not happen, and why; nothing was started. */
export class StartError extends Error {
  constructor(
    readonly code: StartRefusal,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

export interface StartedRun {
  workflowId: string;
  runId: string;
  /** True when the request repeated an earlier one: its run, nothing new started. */
  existing: boolean;
  /** The existing run's status (only when `existing`). */
  status?: string;
}

export interface StartRequest {
  /** The request body, not yet validated. */
  body: unknown;
  /** The caller's `Idempotency-Key`, checked for shape by the caller. */
  idempotencyKey?: string;
}

/** The flow's start spec, when callers may start it; a `StartError` saying why not otherwise. */
export function startableFlow(type: string): StartableFlow<unknown, unknown> {
  if (!isServiceWorkflowType(type)) {
    throw new StartError('unknown_type', `no flow named "${type}"`);
  }
  const spec = startSpecOf(type);
  if (!spec.startable) {
    throw new StartError('not_startable', `runs of ${type} are not started by callers: ${spec.reason}`);
  }
  return spec;
}

/** A fingerprint of the normalised request: the same input sent twice hashes the same. */
export function requestHash(input: unknown): string {
  const canonical = JSON.stringify(input, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** Starts a run of `type` for a caller's request; throws `StartError` when it does not. */
export async function startFlow(
  client: Client,
  context: StartContext,
  type: string,
  request: StartRequest,
): Promise<StartedRun> {
  const spec = startableFlow(type);
  const flowType = type as ServiceWorkflowType;
  const parsed = spec.body.safeParse(request.body);
  if (!parsed.success) {
    throw new StartError('invalid_request', `${spec.names.input} is invalid`, zodIssues(parsed.error));
  }
  const body = parsed.data;
  const hash = requestHash(body);
  const key = request.idempotencyKey;

  if (key) {
    // An earlier request with this key, possibly for another business key: same body = same run.
    const earlier = await findByIdempotencyKey(client, context.workflowQueue, key);
    if (earlier) return answerExisting(client, context, spec, earlier, hash, key);
  }

  const workflowId =
    spec.identity.kind === 'business-key'
      ? spec.identity.workflowId(body)
      : spec.identity.workflowId(key ?? randomUUID());
  const values: Record<string, string | undefined> = {
    [IntegrationFlow.name]: flowOf(flowType).flow,
    [BusinessKey.name]: spec.businessKey(body),
    [IdempotencyKey.name]: key,
  };
  const known = { IntegrationFlow, BusinessKey, IdempotencyKey } as const;
  const typedSearchAttributes = flowOf(flowType).startAttributes.flatMap((attribute) => {
    const value = values[attribute.name];
    const searchKey = known[attribute.name as keyof typeof known];
    return value !== undefined && searchKey ? [{ key: searchKey, value }] : [];
  });
  try {
    const handle = await client.workflow.start(flowType, {
      workflowId,
      taskQueue: context.workflowQueue,
      typedSearchAttributes,
      memo: { requestHash: hash, ...(key ? { idempotencyKey: key } : {}) },
      staticSummary: spec.staticSummary(body),
      workflowIdConflictPolicy: 'FAIL',
      // A completed run is never repeated under its id; a failed or cancelled one may be started again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      args: [spec.input(body, context)],
    });
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, existing: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return answerExisting(client, context, spec, workflowId, hash, key);
    }
    throw err;
  }
}

async function findByIdempotencyKey(
  client: Client,
  workflowQueue: string,
  key: string,
): Promise<string | undefined> {
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const query = `IdempotencyKey = ${quote(key)} AND TaskQueue = ${quote(workflowQueue)}`;
  for await (const wf of client.workflow.list({ query, pageSize: 1 })) {
    return wf.workflowId;
  }
  return undefined;
}

/** The run a repeated request names: the same request gets it back; anything else is refused. */
async function answerExisting(
  client: Client,
  context: StartContext,
  spec: StartableFlow<unknown, unknown>,
  workflowId: string,
  hash: string,
  key: string | undefined,
): Promise<StartedRun> {
  const d = await client.workflow.getHandle(workflowId).describe();
  const memo = (d.memo ?? {}) as { requestHash?: string; idempotencyKey?: string };
  const status = d.status.name === 'CANCELLED' ? 'CANCELED' : d.status.name;
  if (d.taskQueue !== context.workflowQueue) {
    throw new StartError('conflict', `the ${spec.names.key} is taken by a run outside this service`);
  }
  if (memo.requestHash === hash) {
    return { workflowId, runId: d.runId, existing: true, status: d.status.name };
  }
  if (key && memo.idempotencyKey === key) {
    throw new StartError(
      'idempotency_key_reused',
      'this Idempotency-Key was used with a different request body',
      { workflowId },
    );
  }
  const reason =
    status === 'COMPLETED'
      ? `this ${spec.names.key} already has a completed run with different data; a completed run is never repeated`
      : status === 'RUNNING'
        ? `a run for this ${spec.names.key} is in progress with different data; cancel it before resubmitting`
        : `the last run for this ${spec.names.key} is ${status} with different data; redrive it or resubmit the same data`;
  throw new StartError('conflict', reason, { workflowId, runId: d.runId, status });
}
