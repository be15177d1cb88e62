import {
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';

/** gRPC status codes (https://grpc.io/docs/guides/status-codes/) the API maps to a 4xx or 503. */
const grpcStatus = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 };
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';

/** An error with an HTTP status and a body safe to show the caller. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function zodIssues(err: ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

/**
 * The one place where errors become HTTP answers. Temporal's not-found and already-started map to 404
 * and 409; validation errors list every field; anything else is a 500 whose details stay in the log.
 */
export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof HttpError) {
    void reply.code(err.statusCode).send({ error: err.code, message: err.message, details: err.details });
    return;
  }
  if (err instanceof ZodError) {
    void reply
      .code(400)
      .send({ error: 'invalid_request', message: 'the request is invalid', details: zodIssues(err) });
    return;
  }
  if (err instanceof WorkflowNotFoundError) {
    void reply.code(404).send({ error: 'not_found', message: 'no run with this id' });
    return;
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    void reply.code(409).send({ error: 'conflict', message: 'a run with this id already exists' });
    return;
  }
  const grpcCode = grpcCodeOf(err);
  if (grpcCode === grpcStatus.INVALID_ARGUMENT) {
    req.log.warn({ err }, 'Temporal refused the request');
    void reply
      .code(400)
      .send({ error: 'invalid_request', message: 'Temporal refused the request as invalid' });
    return;
  }
  if (
    grpcCode === grpcStatus.UNAVAILABLE ||
    grpcCode === grpcStatus.DEADLINE_EXCEEDED ||
    grpcCode === grpcStatus.RESOURCE_EXHAUSTED
  ) {
    req.log.warn({ err }, 'Temporal unavailable');
    void reply
      .code(503)
      .header('retry-after', '5')
      .send({ error: 'unavailable', message: 'Temporal did not answer in time; retry later' });
    return;
  }
  const fastifyErr = err as FastifyError;
  if (fastifyErr.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    // Fastify's JSON parser gives the same error for broken JSON and for a key it refuses to protect
    // the process from prototype poisoning; the caller must be able to tell which rule it broke.
    void reply.code(400).send({
      error: fastifyErr.code,
      message:
        'the body is not valid JSON, or it holds a key named "__proto__" (or a "constructor" with a "prototype"), which is refused anywhere in a body',
    });
    return;
  }
  if (fastifyErr.statusCode && fastifyErr.statusCode < 500) {
    void reply
      .code(fastifyErr.statusCode)
      .send({ error: fastifyErr.code ?? 'bad_request', message: err.message });
    return;
  }
  req.log.error({ err }, 'request failed');
  void reply.code(500).send({ error: 'internal', message: 'internal error; see the server log' });
}

/** The gRPC status of a Temporal client error (the error itself or the cause a ServiceError wraps). */
function grpcCodeOf(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  if (err instanceof ServiceError && isGrpcServiceError(err.cause)) return err.cause.code;
  return undefined;
}
