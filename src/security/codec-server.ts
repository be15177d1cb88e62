import rateLimit from '@fastify/rate-limit';
import type { Payload } from '@temporalio/common';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorHandler, HttpError, zodIssues } from '../api/errors';
import { perKeyRateLimit } from '../api/access';
import { answerWrongMethodWith405 } from '../api/methods';
import { bearerKey, hasScope } from './access-keys';
import type { AccessKeyEntry, AccessKeyring } from './access-keys';
import { AesGcmPayloadCodec, PayloadDecryptionError } from './payload-codec';
import type { PayloadKeyring } from './payload-codec';

/**
 * The codec server: Temporal's remote codec protocol (`POST …/encode`, `POST …/decode`, proto3-JSON
 * `Payloads` in and out) over the project's payload codec, so the Temporal Web UI and CLI show decoded
 * inputs, results and failures to an operator whose key holds the `codec` scope.
 *
 * - Authentication: an access key (`src/security/access-keys.ts`) as `Authorization: Bearer <key>`
 *   (the CLI's `--codec-auth`), or in the endpoint's path, `/k/<key>/decode`, for a Web UI that sends
 *   no credentials (the dev server's UI over http). The path form makes the endpoint URL itself the
 *   credential: whoever can read the UI's codec setting can decode (docs/security.md).
 * - CORS for one origin only, the configured Web UI's: a preflight or a request from any other origin is
 *   refused with 403 before anything is decoded; requests without an Origin (the CLI) are not browser
 *   requests and need only the key.
 * - The namespace: a request naming another namespace in `X-Namespace` is refused (400); this server
 *   holds the keys of one namespace's data.
 * - Every encode and decode writes an audit line (key id, namespace, payload count; never payload
 *   content); each key is rate limited by its own `perMinute`.
 */
export interface CodecServerOptions {
  keyring: PayloadKeyring;
  accessKeys: AccessKeyring;
  namespace: string;
  /** The Web UI's origin (`scheme://host:port`); the only origin a browser may call from. */
  allowedOrigin: string;
  loggerInstance?: FastifyBaseLogger;
  /** Largest request body in bytes (a history page can carry several payloads of up to 2 MB). */
  bodyLimit?: number;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
/** `temporal.api.common.v1.Payloads` in proto3 JSON: bytes fields are base64 strings. */
const payloadsJson = z
  .object({
    payloads: z
      .array(
        z.object({
          metadata: z.record(z.string().max(256), base64).optional(),
          data: base64.optional(),
        }),
      )
      .max(10_000),
  })
  .strict();
type PayloadsJson = z.infer<typeof payloadsJson>;

function fromJson(body: PayloadsJson): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
}

function toJson(payloads: Payload[]): PayloadsJson {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    accessKey?: AccessKeyEntry;
  }
}

const allowedHeaders = 'authorization, content-type, x-namespace';

export async function createCodecServer(options: CodecServerOptions): Promise<FastifyInstance> {
  const codec = new AesGcmPayloadCodec(options.keyring);
  const app = options.loggerInstance
    ? Fastify({ loggerInstance: options.loggerInstance, bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024 })
    : Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024 });
  app.setErrorHandler(errorHandler);
  answerWrongMethodWith405(app);
  await app.register(rateLimit, { global: false });
  const perKey = perKeyRateLimit(app);

  const corsHeaders = (reply: FastifyReply) =>
    reply
      .header('access-control-allow-origin', options.allowedOrigin)
      .header('access-control-allow-credentials', 'true')
      .header('vary', 'Origin');

  // The origin check runs first, for every request: a page on another origin gets nothing, not even
  // an authentication answer it could probe with.
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (origin !== options.allowedOrigin) {
      req.log.warn({ audit: 'codec.refused', origin, reason: 'origin' }, 'codec: origin refused');
      throw new HttpError(
        403,
        'forbidden_origin',
        `origin ${origin} may not call this codec server (only the configured Web UI)`,
      );
    }
    corsHeaders(reply);
  });

  const preflight = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', allowedHeaders)
      .header('access-control-max-age', '600')
      .send();

  const handle =
    (operation: 'encode' | 'decode') =>
    async (req: FastifyRequest<{ Params: { key?: string } }>, reply: FastifyReply) => {
      const entry = options.accessKeys.verify(req.params.key ?? bearerKey(req.headers.authorization));
      if (!entry) {
        req.log.warn({ audit: 'codec.refused', operation, reason: 'key' }, 'codec: no valid key');
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'unauthorized', message: 'missing or invalid access key' });
      }
      if (!hasScope(entry, 'codec')) {
        req.log.warn(
          { audit: 'codec.refused', operation, keyId: entry.id, reason: 'scope' },
          'codec: key lacks scope',
        );
        throw new HttpError(403, 'forbidden', `key "${entry.id}" does not hold the codec scope`);
      }
      req.accessKey = entry;
      await perKey(req, reply);
      const namespace = req.headers['x-namespace'];
      if (namespace !== undefined && namespace !== options.namespace) {
        throw new HttpError(
          400,
          'wrong_namespace',
          `this codec server serves namespace "${options.namespace}", not "${String(namespace)}"`,
        );
      }
      const parsed = payloadsJson.safeParse(req.body);
      if (!parsed.success) {
        throw new HttpError(
          400,
          'invalid_request',
          'the body must be Payloads in proto3 JSON',
          zodIssues(parsed.error),
        );
      }
      const payloads = fromJson(parsed.data);
      let out: Payload[];
      try {
        out = operation === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
      } catch (err) {
        if (err instanceof PayloadDecryptionError) throw new HttpError(400, 'undecodable', err.message);
        // A payload whose ciphertext decrypts but is not a Payload proto.
        throw new HttpError(400, 'undecodable', 'a payload could not be decoded');
      }
      req.log.info(
        {
          audit: `codec.${operation}`,
          keyId: entry.id,
          namespace: options.namespace,
          payloads: payloads.length,
        },
        `codec: ${operation}`,
      );
      return toJson(out);
    };

  for (const prefix of ['', '/k/:key']) {
    app.post(`${prefix}/decode`, handle('decode'));
    app.post(`${prefix}/encode`, handle('encode'));
    app.options(`${prefix}/decode`, preflight);
    app.options(`${prefix}/encode`, preflight);
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}
