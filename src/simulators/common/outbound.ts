import { createHmac, randomUUID } from 'node:crypto';

/**
 * Outbound event delivery for simulators (Salesforce change events, SAP order events, inventory
 * changes), signed per Standard Webhooks so the coordinator's ingress verifies them the same way it
 * would verify a real source. Written from the spec, not shared with the coordinator.
 */
export interface OutboundTarget {
  url: string;
  /** `whsec_<base64>` secret. */
  secret: string;
}

export interface OutboundDelivery {
  id: string;
  url: string;
  type: string;
  status?: number;
  error?: string;
  attempts: number;
  body: string;
}

export function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${sig}`;
}

export class OutboundEvents {
  private deliveries: OutboundDelivery[] = [];
  private pending = new Set<Promise<void>>();

  constructor(
    private target: OutboundTarget | undefined,
    private readonly maxAttempts = 5,
  ) {}

  configure(target: OutboundTarget | undefined): void {
    this.target = target;
  }

  isConfigured(): boolean {
    return this.target !== undefined;
  }

  list(): OutboundDelivery[] {
    return this.deliveries.map((d) => ({ ...d }));
  }

  clear(): void {
    this.deliveries = [];
  }

  /** Sends in the background, retrying non-2xx answers a few times like a real source would. */
  send(type: string, payload: unknown, id: string = `evt_${randomUUID()}`): string | undefined {
    const target = this.target;
    if (!target) return undefined;
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data: payload });
    const delivery: OutboundDelivery = { id, url: target.url, type, attempts: 0, body };
    this.deliveries.push(delivery);
    const p = this.deliver(target, delivery).finally(() => this.pending.delete(p));
    this.pending.add(p);
    return id;
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async deliver(target: OutboundTarget, delivery: OutboundDelivery): Promise<void> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      delivery.attempts = attempt;
      const ts = Math.floor(Date.now() / 1000);
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': delivery.id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signStandardWebhook(target.secret, delivery.id, ts, delivery.body),
          },
          body: delivery.body,
          signal: AbortSignal.timeout(10_000),
        });
        delivery.status = res.status;
        delivery.error = undefined;
        await res.arrayBuffer();
        if (res.ok || (res.status >= 400 && res.status < 500 && ![408, 409, 429].includes(res.status)))
          return;
      } catch (err) {
        delivery.error = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    }
  }
}
