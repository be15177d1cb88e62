import { z } from 'zod';

/**
 * Query and path parameters reach Temporal (ids, visibility queries), so they are checked first: no
 * control characters (C0, DEL, C1 — a NUL broke the server's visibility query), a bound on their UTF-8
 * size (Temporal's limits are bytes), nothing empty. A refusal is a 400 that names the parameter.
 */
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

export const safeText = (maxBytes: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(maxBytes, `must be at most ${maxBytes} bytes`)
    .refine((v) => !controlCharacter.test(v), 'must not contain control characters')
    .refine((v) => Buffer.byteLength(v, 'utf8') <= maxBytes, `must be at most ${maxBytes} bytes`)
    // For the OpenAPI document: the control-character rule as a pattern; the byte limit can only be said.
    .meta({
      pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$',
      description: `no control characters; at most ${maxBytes} bytes in UTF-8`,
    });

/** Workflow ids of this service: `customer-creation:<reference>`, `order:<id>`, ... */
export const workflowIdParams = z.object({ workflowId: safeText(255) }).strict();

/**
 * The body of a POST whose body is optional: none at all means `{}`, anything else is validated as sent
 * (a JSON `null` is not an object and is refused, as the OpenAPI document says).
 */
export const optionalBody = (body: unknown): unknown => (body === undefined ? {} : body);
