import type { DeliveryOutcome } from './customer-creation.messages';

export interface NotificationRedeliveryInput {
  /** The run whose event is redelivered: with the type it fixes the webhook-id, so consumers dedupe. */
  sourceKey: string;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  subscribers: string[];
}

export interface NotificationRedeliveryResult {
  deliveries: DeliveryOutcome[];
}

export function notificationRedeliveryWorkflowId(sourceKey: string): string {
  return `notification-redelivery:${sourceKey}`;
}
