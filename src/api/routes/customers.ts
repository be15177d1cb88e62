import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { customerSchema } from '../../domain/customer';
import type { Customer } from '../../domain/customer';
import type { customerCreation } from '../../workflows/customer-creation';
import {
  customerCreationStartOptions,
  customerCreationWorkflowType,
} from '../../workflows/customer-creation.messages';
import type { NotificationRetry } from '../../workflows/customer-creation.messages';
import type { ActivityRoutes } from '../../workflows/shared/task-queues';
import { IdempotencyKey } from '../../workflows/shared/search-attributes';
import { HttpError, zodIssues } from '../errors';
import { statusUrl } from '../run-view';

export interface CustomerRouteSettings {
  workflowQueue: string;
  temporalUiUrl: string;
  notificationRetry?: NotificationRetry;
  activityRoutes?: ActivityRoutes;
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** A fingerprint of the normalised request: the same customer sent twice hashes the same. */
export function requestHash(customer: Customer): string {
  const canonical = JSON.stringify(customer, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * `POST /v1/customers` starts the customer-creation saga and answers 202 at once. One run per customer
 * reference (the workflow id is the business key). Idempotency:
 *  - the same customer sent again answers 200 with the existing run, never a second run;
 *  - an `Idempotency-Key` reused with a different body answers 422;
 *  - the same reference with different data while a run exists (or completed) answers 409;
 *  - after a run failed or was cancelled, the same reference may be submitted again (a new run).
 */
export function registerCustomerRoutes(
  app: FastifyInstance,
  client: Client,
  settings: CustomerRouteSettings,
): void {
  app.post('/v1/customers', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key))) {
      throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const parsed = customerSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new HttpError(400, 'invalid_request', 'the customer is invalid', zodIssues(parsed.error));
    }
    const customer = parsed.data;
    const hash = requestHash(customer);

    if (key) {
      // An earlier request with this key, possibly for another reference: same body = same run.
      const earlier = await findByIdempotencyKey(client, key);
      if (earlier) return answerExisting(reply, client, earlier, hash, key);
    }

    const options = customerCreationStartOptions(customer, settings.workflowQueue);
    try {
      const handle = await client.workflow.start<typeof customerCreation>(customerCreationWorkflowType, {
        ...options,
        typedSearchAttributes: key
          ? [...options.typedSearchAttributes, { key: IdempotencyKey, value: key }]
          : options.typedSearchAttributes,
        memo: { requestHash: hash, ...(key ? { idempotencyKey: key } : {}) },
        workflowIdConflictPolicy: 'FAIL',
        // A completed customer is never created twice; a failed or cancelled one may be resubmitted.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        args: [
          {
            customer,
            temporalUiUrl: settings.temporalUiUrl,
            notificationRetry: settings.notificationRetry,
            ...(settings.activityRoutes ? { routes: settings.activityRoutes } : {}),
          },
        ],
      });
      return reply.code(202).send({
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        statusUrl: statusUrl(handle.workflowId),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        return answerExisting(reply, client, options.workflowId, hash, key);
      }
      throw err;
    }
  });
}

async function findByIdempotencyKey(client: Client, key: string): Promise<string | undefined> {
  const escaped = key.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  for await (const wf of client.workflow.list({ query: `IdempotencyKey = '${escaped}'`, pageSize: 1 })) {
    return wf.workflowId;
  }
  return undefined;
}

async function answerExisting(
  reply: FastifyReply,
  client: Client,
  workflowId: string,
  hash: string,
  key: string | undefined,
) {
  const d = await client.workflow.getHandle(workflowId).describe();
  const memo = (d.memo ?? {}) as { requestHash?: string; idempotencyKey?: string };
  if (memo.requestHash === hash) {
    return reply.code(200).send({
      workflowId,
      runId: d.runId,
      statusUrl: statusUrl(workflowId),
      status: d.status.name,
      existing: true,
    });
  }
  if (key && memo.idempotencyKey === key) {
    throw new HttpError(
      422,
      'idempotency_key_reused',
      'this Idempotency-Key was used with a different request body',
      {
        workflowId,
      },
    );
  }
  const status = d.status.name === 'CANCELLED' ? 'CANCELED' : d.status.name;
  const reason =
    status === 'COMPLETED'
      ? 'this customer reference was already created with different data; a completed customer is never created twice'
      : status === 'RUNNING'
        ? 'a run for this customer reference is in progress with different data; cancel it before resubmitting'
        : `the last run for this customer reference is ${status} with different data; redrive it or resubmit the same data`;
  throw new HttpError(409, 'conflict', reason, {
    workflowId,
    runId: d.runId,
    status,
    statusUrl: statusUrl(workflowId),
  });
}
