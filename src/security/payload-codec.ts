import type { Payload, PayloadCodec } from '@temporalio/common';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of every payload the project sends to Temporal: workflow and activity inputs
 * and results, signals, queries, memos, and (with the failure converter in ./failure-converter.ts)
 * failure messages and stack traces. Temporal's server, its database and anyone reading history
 * without the key see only ciphertext.
 *
 * An encrypted payload is `{metadata: {encoding: "binary/encrypted", "encryption-key-id": <id>}, data:
 * iv(12) | ciphertext | tag(16)}`, the ciphertext being the original Payload proto (its own metadata
 * included). The key id is authenticated too (it is the GCM additional data), so it cannot be swapped.
 *
 * Rotation without downtime: the keyring's current key encrypts; every key of the ring decrypts. Add
 * the new key to every process, then make it current, then drop the old one once no open history needs
 * it (see docs/security.md).
 *
 * A payload this codec did not encode (no `binary/encrypted` encoding) passes through decode unchanged:
 * histories recorded before encryption was enabled still replay and still show.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface PayloadKeyring {
  /** The id of the key that encrypts. */
  currentKeyId: string;
  /** Every key that may still decrypt, by id (the current one included). */
  keys: ReadonlyMap<string, Buffer>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly currentKey: Buffer;
  private readonly currentKeyIdBytes: Uint8Array;

  constructor(private readonly keyring: PayloadKeyring) {
    const key = keyring.keys.get(keyring.currentKeyId);
    if (!key) throw new Error(`the current key "${keyring.currentKeyId}" is not in the keyring`);
    for (const [id, k] of keyring.keys) {
      if (k.length !== KEY_BYTES)
        throw new Error(`key "${id}" has ${k.length} bytes; AES-256 needs ${KEY_BYTES}`);
    }
    this.currentKey = key;
    this.currentKeyIdBytes = encoder.encode(keyring.currentKeyId);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.currentKey, iv);
      cipher.setAAD(this.currentKeyIdBytes);
      const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: this.currentKeyIdBytes,
        },
        data: body,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const keyId = idBytes ? decoder.decode(idBytes) : undefined;
      const key = keyId === undefined ? undefined : this.keyring.keys.get(keyId);
      if (!key) {
        throw new PayloadDecryptionError(
          `payload encrypted with key "${keyId ?? '(none)'}", which is not in this process's keyring`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptionError('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(idBytes!);
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new PayloadDecryptionError(`payload encrypted with key "${keyId}" failed authentication`);
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * Parses a keyring from its configuration: `keys` as `id:base64key[,id:base64key...]` (each key 32
 * bytes, e.g. `openssl rand -base64 32`), `currentKeyId` naming the one that encrypts. Returns every
 * problem found, worded for the operator (the caller names the variables).
 */
export function parseKeyring(
  keys: string,
  currentKeyId: string,
): { keyring?: PayloadKeyring; problems: { variable: 'keys' | 'current'; message: string }[] } {
  const problems: { variable: 'keys' | 'current'; message: string }[] = [];
  const map = new Map<string, Buffer>();
  for (const entry of keys.split(',').map((e) => e.trim())) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const b64 = colon < 0 ? '' : entry.slice(colon + 1);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      problems.push({
        variable: 'keys',
        message: `each entry must be <id>:<base64 key> (id: letters, digits, . _ -), got "${entry.slice(0, 20)}${entry.length > 20 ? '…' : ''}"`,
      });
      continue;
    }
    const key = Buffer.from(b64, 'base64');
    if (key.length !== KEY_BYTES) {
      problems.push({
        variable: 'keys',
        message: `key "${id}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES} (openssl rand -base64 32)`,
      });
      continue;
    }
    if (map.has(id)) {
      problems.push({ variable: 'keys', message: `key id "${id}" appears twice` });
      continue;
    }
    map.set(id, key);
  }
  if (!map.has(currentKeyId)) {
    problems.push({
      variable: 'current',
      message: `"${currentKeyId}" is not one of the keys (${[...map.keys()].join(', ') || 'none'})`,
    });
  }
  return problems.length ? { problems } : { keyring: { currentKeyId, keys: map }, problems };
}
