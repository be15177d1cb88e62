import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/lib/retry-after';
import { signWebhook, webhookIdFor } from '../../src/lib/standard-webhooks';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('Standard Webhooks signing', () => {
  it('matches the spec’s published example signature', () => {
    // The example of the Standard Webhooks spec (and of Svix's docs).
    const sig = signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is accepted by the independent standardwebhooks implementation', () => {
    const id = webhookIdFor('customer-creation:crm-import-42', 'customer.created');
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      type: 'customer.created',
      timestamp: new Date().toISOString(),
      data: { a: 'é' },
    });
    const payload = new Webhook(secret).verify(body, {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secret, id, ts, body),
    });
    expect(payload).toEqual(JSON.parse(body));
  });

  it('agrees byte for byte with standardwebhooks’ own signer', () => {
    const when = new Date(1_700_000_000_000);
    const body = '{"type":"x","data":{"n":1}}';
    expect(signWebhook(secret, 'msg_1', 1_700_000_000, body)).toBe(
      new Webhook(secret).sign('msg_1', when, body),
    );
  });

  it('refuses secrets that are not whsec_ or empty', () => {
    expect(() => signWebhook('plain', 'id', 1, '')).toThrow(/whsec_/);
    expect(() => signWebhook('whsec_', 'id', 1, '')).toThrow(/empty/);
  });

  it('gives one stable id per source and event type, without dots', () => {
    const a = webhookIdFor('customer-creation:a.b', 'customer.created');
    expect(a).toBe(webhookIdFor('customer-creation:a.b', 'customer.created'));
    expect(a).not.toBe(webhookIdFor('customer-creation:a.b', 'customer.updated'));
    expect(a).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
