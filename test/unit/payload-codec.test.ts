import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  parseKeyring,
  PayloadDecryptionError,
} from '../../src/security/payload-codec';
import type { PayloadKeyring } from '../../src/security/payload-codec';

const key = () => randomBytes(32);
const ring = (current: string, keys: Record<string, Buffer>): PayloadKeyring => ({
  currentKeyId: current,
  keys: new Map(Object.entries(keys)),
});
const customer = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' };
const plain = (): Payload => defaultPayloadConverter.toPayload(customer);
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('AES-256-GCM payload codec', () => {
  it('encrypts a payload under the current key id and decrypts it back unchanged', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1: key() }));
    const [encoded] = await codec.encode([plain()]);
    expect(text(encoded!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(text(encoded!.data)).not.toContain('Lovelace');
    expect(Object.keys(encoded!.metadata!)).toEqual(['encoding', KEY_ID_METADATA]); // nothing else leaks
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(customer);
  });

  it('uses a fresh IV per payload: the same value encrypts differently each time', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1: key() }));
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('rotation: a new current key encrypts while the old one still decrypts what it encrypted', async () => {
    const k1 = key();
    const k2 = key();
    const before = new AesGcmPayloadCodec(ring('k1', { k1 }));
    const after = new AesGcmPayloadCodec(ring('k2', { k2, k1 }));
    const [old] = await before.encode([plain()]);
    const [fresh] = await after.encode([plain()]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([customer, customer]);
    // Once k1 is dropped, what only k1 encrypted can no longer be read: an error naming the key.
    const dropped = new AesGcmPayloadCodec(ring('k2', { k2 }));
    await expect(dropped.decode([old!])).rejects.toThrow(/key "k1", which is not in this process's keyring/);
  });

  it('passes payloads it did not encode through decode unchanged (histories recorded before encryption)', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1: key() }));
    const unencoded = plain();
    const [decoded] = await codec.decode([unencoded]);
    expect(decoded).toBe(unencoded);
  });

  it('refuses a tampered ciphertext and a swapped key id', async () => {
    const k1 = key();
    const codec = new AesGcmPayloadCodec(ring('k1', { k1, k2: k1 }));
    const [encoded] = await codec.encode([plain()]);
    const tampered = Buffer.from(encoded!.data!);
    tampered[20] = tampered[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data: tampered }])).rejects.toThrow(PayloadDecryptionError);
    // The key id is authenticated: relabelling the payload with another id (same key bytes) fails.
    const relabelled = {
      ...encoded!,
      metadata: { ...encoded!.metadata!, [KEY_ID_METADATA]: Buffer.from('k2') },
    };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/);
  });
});

describe('keyring configuration', () => {
  const b64 = (bytes: number) => randomBytes(bytes).toString('base64');

  it('parses id:key pairs and the current key id', () => {
    const { keyring, problems } = parseKeyring(`new:${b64(32)}, old:${b64(32)}`, 'new');
    expect(problems).toEqual([]);
    expect([...keyring!.keys.keys()]).toEqual(['new', 'old']);
  });

  it.each([
    [
      'a short key',
      () => ({ PAYLOAD_CODEC_KEYS: `k1:${b64(16)}`, PAYLOAD_CODEC_CURRENT_KEY_ID: 'k1' }),
      /PAYLOAD_CODEC_KEYS: key "k1" is 16 bytes; AES-256 needs 32/,
    ],
    [
      'a duplicate key id',
      () => ({ PAYLOAD_CODEC_KEYS: `k1:${b64(32)},k1:${b64(32)}`, PAYLOAD_CODEC_CURRENT_KEY_ID: 'k1' }),
      /PAYLOAD_CODEC_KEYS: key id "k1" appears twice/,
    ],
    [
      'no current key',
      () => ({ PAYLOAD_CODEC_KEYS: `k1:${b64(32)}`, PAYLOAD_CODEC_CURRENT_KEY_ID: 'k2' }),
      /PAYLOAD_CODEC_CURRENT_KEY_ID: "k2" is not one of the keys \(k1\)/,
    ],
    [
      'a malformed entry',
      () => ({ PAYLOAD_CODEC_KEYS: 'just-a-key', PAYLOAD_CODEC_CURRENT_KEY_ID: 'k1' }),
      /PAYLOAD_CODEC_KEYS: each entry must be <id>:<base64 key>/,
    ],
  ])('%s stops start-up with the variable named', (_what, env, message) => {
    let error: unknown;
    try {
      loadConfig(env());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it('the default is the published development keyring, so `npm start` and the tests encrypt too', () => {
    const config = loadConfig({});
    expect(config.payloadKeyring.currentKeyId).toBe('dev-1');
    expect(config.payloadKeyring.keys.get('dev-1')).toHaveLength(32);
  });
});
