import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback endpoint that records JSON posts: stands in for the ops team's chat webhook. */
export async function startRecorder() {
  const received: { path: string; body: any }[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', body: raw ? JSON.parse(raw) : undefined });
      for (const w of waiters.splice(0)) w();
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
