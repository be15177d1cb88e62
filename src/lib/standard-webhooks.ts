import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com), the coordinator's one implementation: signing
 * of the deliveries it sends to subscribers, verification of the events sources send to its ingress.
 * (The simulators keep their own, written separately from the spec, so they check this one.)
 */

/**
 * Signing: HMAC-SHA256 over `${id}.${timestamp}.${body}` with the base64-decoded `whsec_` secret,
 * sent as `v1,<base64>`.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = webhookKey(secret);
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * The `webhook-id` of one event: derived from the run and the event type only, so every retry (and
 * every redrive of the same run's notification) carries the same id and consumers can deduplicate.
 * Hex, so it never contains the `.` the spec forbids.
 */
export function webhookIdFor(sourceKey: string, eventType: string): string {
  return `msg_${createHash('sha256').update(`${sourceKey}\n${eventType}`).digest('hex').slice(0, 32)}`;
}

export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type WebhookRejection =
  | { status: 401; error: 'missing_signature' | 'invalid_signature'; reason: string }
  | { status: 400; error: 'stale_timestamp'; reason: string };

export interface SignedHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/** The HMAC key of a `whsec_<base64>` secret. */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new Error('a Standard Webhooks secret starts with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  if (key.length === 0) throw new Error('the webhook secret is empty');
  return key;
}

/**
 * Standard Webhooks verification, written from the spec: HMAC-SHA256 with the secret's key over
 * `${webhook-id}.${webhook-timestamp}.${body}`, sent as one or more space-separated `v1,<base64>`
 * entries (a sender rotating its secret signs with both); any entry matching any of our keys passes.
 *
 * The signature is checked BEFORE the timestamp window, so an unauthenticated caller only ever learns
 * "401"; a 400 for the timestamp goes to a genuine sender whose clock is off, or to a genuine delivery
 * replayed too late — both worth telling apart in the log. Returns undefined when the request is authentic.
 */
export function verifyWebhookSignature(
  keys: readonly Buffer[],
  headers: SignedHeaders,
  rawBody: Buffer,
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): WebhookRejection | undefined {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    const missing = [
      !id && 'webhook-id',
      !timestamp && 'webhook-timestamp',
      !signature && 'webhook-signature',
    ]
      .filter(Boolean)
      .join(', ');
    return { status: 401, error: 'missing_signature', reason: `missing header(s): ${missing}` };
  }

  // Compared as base64 text, not decoded bytes: Node's base64 decoder skips junk characters, so
  // decoding would also accept "<valid signature>!!". Lengths are equal for every real signature (44).
  const expected = keys.map((key) =>
    Buffer.from(
      createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest('base64'),
      'utf8',
    ),
  );
  const matches = signature.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false; // other schemes are not ours to check
    const given = Buffer.from(entry.slice(comma + 1), 'utf8');
    return expected.some((e) => e.length === given.length && timingSafeEqual(e, given));
  });
  if (!matches) return { status: 401, error: 'invalid_signature', reason: 'no matching v1 signature' };

  if (!/^\d{1,15}$/.test(timestamp)) {
    return {
      status: 400,
      error: 'stale_timestamp',
      reason: `webhook-timestamp "${timestamp}" is not unix seconds`,
    };
  }
  const skew = nowSeconds - Number(timestamp);
  if (Math.abs(skew) > toleranceSeconds) {
    return {
      status: 400,
      error: 'stale_timestamp',
      reason: `webhook-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'} (tolerance ${toleranceSeconds} s)`,
    };
  }
  return undefined;
}
