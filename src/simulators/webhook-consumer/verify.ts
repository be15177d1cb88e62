import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (v1.0.0) receiver-side verification, written from the spec rather than taken
 * from a library, so the simulator is an independent check of whatever signs the deliveries.
 *
 * Signed content is `${webhook-id}.${webhook-timestamp}.${rawBody}`, HMAC-SHA256 keyed with the
 * base64-decoded part of a `whsec_` secret; `webhook-signature` is a space-separated list of
 * `<version>,<base64>` entries and any matching `v1` entry passes (key rotation).
 */

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export type VerificationFailure =
  | 'missing-headers'
  | 'invalid-timestamp'
  | 'timestamp-too-old'
  | 'timestamp-too-new'
  | 'no-matching-signature';

export type VerificationResult =
  { ok: true; timestamp: number } | { ok: false; reason: VerificationFailure; timestamp?: number };

export interface WebhookHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/** Decodes a `whsec_<base64>` secret (a bare base64 string is accepted too) into the HMAC key. */
export function decodeSecret(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('webhook secret decodes to an empty key');
  return key;
}

export function computeSignature(key: Buffer, id: string, timestamp: number, rawBody: string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest();
}

/**
 * Verifies one delivery. Timestamp checks come before the signature check (as in the reference
 * libraries), so a stale replay is reported as stale whatever its signature.
 */
export function verifyDelivery(
  keys: readonly Buffer[],
  headers: WebhookHeaders,
  rawBody: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): VerificationResult {
  const { id, timestamp: tsHeader, signature } = headers;
  if (!id || !tsHeader || !signature) return { ok: false, reason: 'missing-headers' };
  // Integer Unix seconds only; "12abc" or "1.5e9" is not a timestamp the spec allows.
  if (!/^\d{1,15}$/.test(tsHeader)) return { ok: false, reason: 'invalid-timestamp' };
  const timestamp = Number(tsHeader);
  if (nowSeconds - timestamp > toleranceSeconds) return { ok: false, reason: 'timestamp-too-old', timestamp };
  if (timestamp - nowSeconds > toleranceSeconds) return { ok: false, reason: 'timestamp-too-new', timestamp };

  // Compare the canonical base64 text, not decoded bytes: Node's base64 decoder skips junk characters,
  // so decoding would accept "<valid signature>!!" that the spec (and every reference library) rejects.
  const expected = keys.map((key) =>
    Buffer.from(computeSignature(key, id, timestamp, rawBody).toString('base64')),
  );
  for (const entry of signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue; // other schemes (v1a, ...) are not ours to check
    const given = Buffer.from(entry.slice(comma + 1));
    for (const candidate of expected) {
      // timingSafeEqual throws on unequal lengths; the length is not secret (a SHA-256 MAC is 44 chars).
      if (given.length === candidate.length && timingSafeEqual(given, candidate))
        return { ok: true, timestamp };
    }
  }
  return { ok: false, reason: 'no-matching-signature', timestamp };
}
