import { StripeHttpError } from './errors';

/**
 * Stripe's idempotent requests, as its API reference describes them: a POST carrying an
 * `Idempotency-Key` header has its status and body saved once the endpoint begins executing; a later
 * request with the same key and the same parameters gets that saved answer back (with
 * `Idempotent-Replayed: true`), successes and failures alike; the same key with other parameters, or
 * on another endpoint, is refused with a 400 `idempotency_error`; a request arriving while the first
 * is still executing gets a 409 and is asked to retry. A request that fails validation or never
 * begins executing (rate limit, outage) saves nothing. Keys are scoped to the API key, at most 255
 * characters, and forgotten after 24 hours.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface SavedResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  requestId: string;
}

export interface IdempotencyEntry {
  key: string;
  method: string;
  path: string;
  fingerprint: string;
  state: 'executing' | 'saved';
  response?: SavedResponse;
  createdAt: number;
  replays: number;
}

/** Parameters compared independently of the order the client encoded them in. */
export function fingerprint(params: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(canonical(params ?? {}));
}

export type Begin = { kind: 'execute' } | { kind: 'replay'; response: SavedResponse };

export class IdempotencyLayer {
  private entries = new Map<string, IdempotencyEntry>();

  constructor(
    private readonly ttlMs = DEFAULT_IDEMPOTENCY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private id(apiKey: string, key: string) {
    return `${apiKey}\u0000${key}`;
  }

  private prune(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, e] of this.entries)
      if (e.state === 'saved' && e.createdAt < oldest) this.entries.delete(id);
  }

  begin(apiKey: string, key: string, method: string, path: string, params: unknown): Begin {
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw new StripeHttpError(400, {
        type: 'invalid_request_error',
        message: `Invalid idempotency key: it must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long.`,
      });
    }
    this.prune();
    const id = this.id(apiKey, key);
    const existing = this.entries.get(id);
    const print = fingerprint(params);
    if (!existing) {
      this.entries.set(id, {
        key,
        method,
        path,
        fingerprint: print,
        state: 'executing',
        createdAt: this.now(),
        replays: 0,
      });
      return { kind: 'execute' };
    }
    if (existing.method !== method || existing.path !== path) {
      throw new StripeHttpError(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${existing.method} ${existing.path}' vs '${method} ${path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    if (existing.fingerprint !== print) {
      throw new StripeHttpError(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    if (existing.state === 'executing') {
      throw new StripeHttpError(
        409,
        {
          type: 'idempotency_error',
          code: 'idempotency_key_in_use',
          message:
            'There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later.',
        },
        { 'stripe-should-retry': 'true' },
      );
    }
    existing.replays += 1;
    return { kind: 'replay', response: existing.response! };
  }

  save(apiKey: string, key: string, response: SavedResponse): void {
    const e = this.entries.get(this.id(apiKey, key));
    if (e) {
      e.state = 'saved';
      e.response = response;
    }
  }

  /** The request never began executing: nothing is saved and the key may be used again. */
  abandon(apiKey: string, key: string): void {
    const id = this.id(apiKey, key);
    if (this.entries.get(id)?.state === 'executing') this.entries.delete(id);
  }

  list(): IdempotencyEntry[] {
    return [...this.entries.values()].map((e) => structuredClone(e));
  }

  reset(): void {
    this.entries.clear();
  }
}
