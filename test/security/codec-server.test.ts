import type { Payload } from '@temporalio/common';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { resolveTemporalExecutable } from '../../src/dev/temporal-binary';
import { createLogger } from '../../src/observability/logging';
import { AccessKeyring, newAccessKey } from '../../src/security/access-keys';
import { createCodecServer } from '../../src/security/codec-server';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../src/security/payload-codec';
import { connectTemporal, uniquePrefix } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

const run = promisify(execFile);

/**
 * The codec server decodes what the project's codec encrypted, for the Web UI and the Temporal CLI, and
 * only for a key with the codec scope, from the Web UI's origin or from no browser at all. The payloads
 * are real: the start event of a run started through the project's client, read raw from the server.
 */
describe('codec server', () => {
  const uiOrigin = 'http://127.0.0.1:8233';
  const keyring = loadConfig({}).payloadKeyring;
  const operator = newAccessKey('operator', ['codec']);
  const reader = newAccessKey('reader', ['runs:read']);
  const tight = newAccessKey('tight', ['codec'], 2);
  const marker = `codec${Math.random().toString(36).slice(2, 10)}`;
  const customer = {
    reference: uniquePrefix('codec'),
    firstName: 'Ada',
    lastName: `Marker${marker}`,
    email: `${marker}@example.com`,
  };
  const workflowId = `${uniquePrefix('codec')}-run`;
  const audit: Record<string, unknown>[] = [];
  let t: TemporalTestContext;
  let server: Awaited<ReturnType<typeof createCodecServer>>;
  let url: string;
  let startInput: Payload[];

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const asJson = (payloads: Payload[]) => ({
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    t = await connectTemporal();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) audit.push(JSON.parse(line));
        done();
      },
    });
    server = await createCodecServer({
      keyring,
      accessKeys: new AccessKeyring([operator.entry, reader.entry, tight.entry]),
      namespace: t.namespace,
      allowedOrigin: uiOrigin,
      loggerInstance: createLogger({ service: 'integration-codec-server', destination: sink }),
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    // A run nobody works on: its start event holds the input as the project's client encrypted it.
    await t.client.workflow.start('customerCreation', {
      workflowId,
      taskQueue: uniquePrefix('codec-idle'),
      args: [{ customer }],
    });
    const history = await t.client.workflowService.getWorkflowExecutionHistory({
      namespace: t.namespace,
      execution: { workflowId },
    });
    startInput = history.history!.events![0]!.workflowExecutionStartedEventAttributes!.input!
      .payloads as Payload[];
  });
  afterAll(async () => {
    await t?.client.workflow
      .getHandle(workflowId)
      .terminate('test done')
      .catch(() => undefined);
    await server?.close();
    await t?.close();
  });

  it('the stored input is ciphertext: encoding binary/encrypted, no trace of the marker', () => {
    expect(startInput).toHaveLength(1);
    const [payload] = startInput;
    expect(Buffer.from(payload!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(payload!.data!).includes(marker)).toBe(false);
  });

  it('decodes the stored input for a key with the codec scope, and writes an audit line', async () => {
    const res = await post('/decode', asJson(startInput), {
      ...bearer(operator.key),
      'x-namespace': t.namespace,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString())).toEqual({ customer });
    const line = audit.find((l) => l.audit === 'codec.decode' && l.keyId === 'operator');
    expect(line).toMatchObject({ namespace: t.namespace, payloads: 1, level: 'info' });
    expect(JSON.stringify(audit)).not.toContain(marker);
  });

  it('decodes with the key in the path, the form the Web UI is configured with', async () => {
    const res = await post(`/k/${operator.key}/decode`, asJson(startInput), { origin: uiOrigin });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const body = (await res.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(body.payloads[0]!.data, 'base64').toString()).toContain(customer.email);
  });

  it('encodes with the current key: the project codec decodes the result', async () => {
    const plain = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"x":1}') };
    const res = await post('/encode', asJson([plain]), bearer(operator.key));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    const encoded: Payload = {
      metadata: Object.fromEntries(
        Object.entries(body.payloads[0]!.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(body.payloads[0]!.data, 'base64'),
    };
    expect(Buffer.from(encoded.metadata!['encryption-key-id']!).toString()).toBe(keyring.currentKeyId);
    const [decoded] = await new AesGcmPayloadCodec(keyring).decode([encoded]);
    expect(Buffer.from(decoded!.data!).toString()).toBe('{"x":1}');
  });

  const executable = resolveTemporalExecutable();
  it.skipIf(executable.type !== 'existing-path')(
    'the Temporal CLI shows the decoded input through it (and only ciphertext without it)',
    async () => {
      const cli = (executable as { path: string }).path;
      const base = ['workflow', 'show', '--address', inject('temporalAddress'), '--namespace', t.namespace];
      const show = (...extra: string[]) =>
        run(cli, [...base, '--workflow-id', workflowId, '--output', 'json', ...extra], { timeout: 30_000 });
      // The CLI prints payloads as proto3 JSON: the decoded one is json/plain, its data the input.
      const startPayload = (stdout: string) => {
        const out = JSON.parse(stdout) as {
          events: {
            workflowExecutionStartedEventAttributes?: {
              input: { payloads: { metadata: Record<string, string>; data: string }[] };
            };
          }[];
        };
        const p = out.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
        return {
          encoding: Buffer.from(p.metadata.encoding!, 'base64').toString(),
          data: Buffer.from(p.data, 'base64').toString(),
        };
      };
      const withCodec = startPayload(
        (await show('--codec-endpoint', url, '--codec-auth', `Bearer ${operator.key}`)).stdout,
      );
      expect(withCodec.encoding).toBe('json/plain');
      expect(JSON.parse(withCodec.data)).toEqual({ customer });
      const pathKey = startPayload((await show('--codec-endpoint', `${url}/k/${operator.key}`)).stdout);
      expect(JSON.parse(pathKey.data)).toEqual({ customer });
      const without = startPayload((await show()).stdout);
      expect(without.encoding).toBe(ENCRYPTED_ENCODING);
      expect(without.data).not.toContain(marker);
    },
  );

  it('refuses a missing or wrong key with 401 and a key without the codec scope with 403', async () => {
    const body = asJson(startInput);
    const none = await post('/decode', body);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    const forged = `${operator.key.slice(0, -2)}xx`;
    expect((await post('/decode', body, bearer(forged))).status).toBe(401);
    expect((await post(`/k/${forged}/decode`, body)).status).toBe(401);
    const scoped = await post('/decode', body, bearer(reader.key));
    expect(scoped.status).toBe(403);
    expect(await scoped.json()).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining('codec'),
    });
    expect(audit.filter((l) => l.audit === 'codec.refused').length).toBeGreaterThanOrEqual(4);
  });

  it('answers a preflight from the Web UI origin and refuses any other origin before anything else', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const ok = await preflight(uiOrigin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const evil = await preflight('http://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // Even with a valid key, a browser page on another origin gets nothing decoded.
    const cross = await post('/decode', asJson(startInput), {
      ...bearer(operator.key),
      origin: 'http://evil.example',
    });
    expect(cross.status).toBe(403);
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    const text = await cross.text();
    expect(text).toContain('forbidden_origin');
    expect(text).not.toContain(marker);
  });

  it('refuses another namespace, malformed bodies and payloads it cannot decrypt with 400', async () => {
    const other = await post('/decode', asJson(startInput), {
      ...bearer(operator.key),
      'x-namespace': 'other',
    });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: 'wrong_namespace' });
    expect((await post('/decode', '{"payloads": 1}', bearer(operator.key))).status).toBe(400);
    expect((await post('/decode', '{not json', bearer(operator.key))).status).toBe(400);
    const foreign = await new AesGcmPayloadCodec({
      currentKeyId: 'elsewhere',
      keys: new Map([['elsewhere', Buffer.alloc(32, 7)]]),
    }).encode([{ metadata: {}, data: Buffer.from('x') }]);
    const unknown = await post('/decode', asJson(foreign), bearer(operator.key));
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: 'undecodable',
      message: expect.stringContaining('elsewhere'),
    });
    const wrongMethod = await fetch(`${url}/decode`, { headers: bearer(operator.key) });
    expect(wrongMethod.status).toBe(405);
  });

  it('limits each key to its own rate: 429 with Retry-After, other keys unaffected', async () => {
    const body = asJson(startInput);
    expect((await post('/decode', body, bearer(tight.key))).status).toBe(200);
    expect((await post('/decode', body, bearer(tight.key))).status).toBe(200);
    const limited = await post('/decode', body, bearer(tight.key));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post('/decode', body, bearer(operator.key))).status).toBe(200);
  });
});
