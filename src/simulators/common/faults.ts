/**
 * The fault model shared by every simulator. A simulator asks `decide()` once per request (after it
 * knows which operation the request is) and renders whatever fault comes back in its own protocol's
 * form: a Salesforce error array, an SAP SOAP fault, a plain HTTP status, a dropped connection.
 *
 * Faults are rules. A rule matches requests (method, path fragment, operation name, body substring) and fires either
 * for the next N matching requests (`remaining`) or with a probability (`rate`, seeded so a run can be
 * reproduced). Latency (fixed + jitter) and a full outage apply to every request that is not an admin call.
 */

export interface LatencyConfig {
  fixedMs: number;
  jitterMs: number;
}

export interface FaultMatch {
  method?: string;
  /** Substring of the request path (query string excluded). */
  path?: string;
  /** The simulator's own operation name: an SAP function module, a Salesforce sObject verb... */
  operation?: string;
  /** Substring of the request body as sent (a SOAP envelope, a JSON document): one record's calls only. */
  bodyIncludes?: string;
}

export interface FaultRuleInput {
  /** Simulator-specific fault kind, for example `server-error`, `rate-limit`, `session-expired`. */
  kind: string;
  match?: FaultMatch;
  /** Fire on the next N matching requests, then retire. */
  remaining?: number;
  /** Fire on this fraction (0..1) of matching requests. Ignored when `remaining` is set. */
  rate?: number;
  /** Kind-specific parameters, e.g. `{ retryAfterSeconds: 2 }` or `{ delayMs: 5000 }`. */
  params?: Record<string, unknown>;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  fired: number;
}

export interface FaultState {
  latency: LatencyConfig;
  outage: boolean;
  rules: FaultRule[];
  seed: number;
}

export interface RequestContext {
  method: string;
  path: string;
  operation?: string;
  /** The request body as text, read only when a rule matches on it. */
  body?: () => string;
}

export interface FaultDecision {
  /** Milliseconds the simulator waits before answering (latency + jitter). */
  delayMs: number;
  outage: boolean;
  rule?: FaultRule;
}

export class FaultConfigError extends Error {}

/** mulberry32: small, fast, good enough to make error rates reproducible from a seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private latency: LatencyConfig = { fixedMs: 0, jitterMs: 0 };
  private outage = false;
  private rules: FaultRule[] = [];
  private nextId = 1;
  private seed = 1;
  private random = seededRandom(1);

  constructor(private readonly knownKinds: readonly string[]) {}

  kinds(): readonly string[] {
    return this.knownKinds;
  }

  setLatency(latency: Partial<LatencyConfig>): void {
    const next = { ...this.latency, ...latency };
    if (!(next.fixedMs >= 0) || !(next.jitterMs >= 0)) {
      throw new FaultConfigError('latency.fixedMs and latency.jitterMs must be numbers >= 0');
    }
    this.latency = next;
  }

  setOutage(on: boolean): void {
    this.outage = on;
  }

  setSeed(seed: number): void {
    if (!Number.isInteger(seed)) throw new FaultConfigError('seed must be an integer');
    this.seed = seed;
    this.random = seededRandom(seed);
  }

  addRule(input: FaultRuleInput): FaultRule {
    if (!this.knownKinds.includes(input.kind)) {
      throw new FaultConfigError(
        `unknown fault kind "${input.kind}"; known kinds: ${this.knownKinds.join(', ')}`,
      );
    }
    if (input.remaining !== undefined && !(Number.isInteger(input.remaining) && input.remaining > 0)) {
      throw new FaultConfigError('remaining must be a positive integer');
    }
    if (input.rate !== undefined && !(input.rate >= 0 && input.rate <= 1)) {
      throw new FaultConfigError('rate must be between 0 and 1');
    }
    if (input.remaining === undefined && input.rate === undefined) {
      throw new FaultConfigError('a fault rule needs "remaining" (next N calls) or "rate" (0..1)');
    }
    const rule: FaultRule = { ...input, id: `fault-${this.nextId++}`, fired: 0 };
    this.rules.push(rule);
    return rule;
  }

  /** Shorthand for "fail the next N matching calls with this kind". */
  failNext(kind: string, count = 1, match?: FaultMatch, params?: Record<string, unknown>): FaultRule {
    return this.addRule({ kind, remaining: count, match, params });
  }

  removeRule(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }

  reset(): void {
    this.latency = { fixedMs: 0, jitterMs: 0 };
    this.outage = false;
    this.rules = [];
    this.setSeed(1);
  }

  state(): FaultState {
    return {
      latency: { ...this.latency },
      outage: this.outage,
      rules: this.rules.map((r) => ({ ...r })),
      seed: this.seed,
    };
  }

  /** Replaces the whole fault configuration (the admin `PUT /__admin/faults`). */
  configure(input: {
    latency?: Partial<LatencyConfig>;
    outage?: boolean;
    rules?: FaultRuleInput[];
    seed?: number;
  }): FaultState {
    const previous = this.state();
    try {
      this.reset();
      if (input.seed !== undefined) this.setSeed(input.seed);
      if (input.latency) this.setLatency(input.latency);
      if (input.outage !== undefined) this.setOutage(input.outage);
      for (const rule of input.rules ?? []) this.addRule(rule);
    } catch (err) {
      // Bad input must not leave half a configuration behind.
      this.latency = previous.latency;
      this.outage = previous.outage;
      this.rules = previous.rules;
      this.setSeed(previous.seed);
      throw err;
    }
    return this.state();
  }

  decide(ctx: RequestContext): FaultDecision {
    const delayMs =
      this.latency.fixedMs + (this.latency.jitterMs > 0 ? this.random() * this.latency.jitterMs : 0);
    if (this.outage) return { delayMs, outage: true };
    for (const rule of this.rules) {
      if (!matches(rule.match, ctx)) continue;
      if (rule.remaining !== undefined) {
        if (rule.remaining <= 0) continue;
        rule.remaining -= 1;
        rule.fired += 1;
        if (rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
        return { delayMs, outage: false, rule: { ...rule } };
      }
      if (rule.rate !== undefined && this.random() < rule.rate) {
        rule.fired += 1;
        return { delayMs, outage: false, rule: { ...rule } };
      }
    }
    return { delayMs, outage: false };
  }
}

function matches(match: FaultMatch | undefined, ctx: RequestContext): boolean {
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== ctx.method.toUpperCase()) return false;
  if (match.path && !ctx.path.includes(match.path)) return false;
  if (match.operation && match.operation !== ctx.operation) return false;
  if (match.bodyIncludes && !(ctx.body?.() ?? '').includes(match.bodyIncludes)) return false;
  return true;
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
