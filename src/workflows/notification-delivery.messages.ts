/** How long a delivery keeps trying before the run gives up on it (and alerts). */
export interface NotificationRetry {
  initialInterval?: string;
  maximumInterval?: string;
  maximumAttempts?: number;
}

export interface DeliveryOutcome {
  subscriber: string;
  status: 'delivered' | 'failed';
  webhookId?: string;
  attempts?: number;
  error?: { type: string; message: string };
}

export interface NotificationDeliveryInput {
  /** What the event is about (a run, an entity event): with the type it fixes the webhook-id, so consumers dedupe. */
  sourceKey: string;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  /** Only these subscribers (a redrive of the failed ones); default: every subscriber of `type`. */
  subscribers?: string[];
}

export interface NotificationDeliveryResult {
  deliveries: DeliveryOutcome[];
}

export function notificationRedeliveryWorkflowId(sourceKey: string): string {
  return `notification-redelivery:${sourceKey}`;
}

export function notificationWorkflowId(sourceKey: string, type: string): string {
  return `notification:${type}:${sourceKey}`;
}
