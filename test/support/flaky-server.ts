import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP endpoint that answers 503 for its first `failures` requests and 200 after: the
 * smallest real system that proves Temporal's retry of a failing activity.
 */
export async function startFlakyEndpoint(failures: number) {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.statusCode = hits <= failures ? 503 : 200;
    res.end(hits <= failures ? 'unavailable' : 'ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
