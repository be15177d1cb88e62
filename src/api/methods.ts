import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * 405 with `Allow` for a known path called with a method it does not serve (and 404 only for paths that
 * do not exist). Fastify routes by method first, so the paths are collected as routes are added; call this
 * before registering any route.
 */
export function answerWrongMethodWith405(app: FastifyInstance): void {
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(
      `^${route.url
        .split('/')
        .map((part) => (part.startsWith(':') ? '[^/]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/')}/?$`,
    );
    for (const method of [route.method].flat()) routes.push({ pattern, method });
  });
  const answer = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
    if (allowed.length) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          error: 'method_not_allowed',
          message: `${req.method} is not allowed here; use ${allowed.join(' or ')}`,
        });
    }
    return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${path}` });
  };
  // Answered before the body is read: a method with a body (QUERY needs a Content-Type) would otherwise
  // be refused by the body parser with a 400 instead of this 405/404.
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return answer(req, reply);
  });
  app.setNotFoundHandler(answer);
}
