import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { FieldOwner } from '../domain/order-sync';

export type { FieldOwner };
import type { EntityEvent, EntityEventKind, EntityRoute, SourceSystem } from '../domain/entity-event';

export type {
  EntityEvent,
  EntityEventKind,
  EntityRoute,
  EntityWorkflowType,
  SourceSystem,
} from '../domain/entity-event';
export { routeEntityEvent } from '../domain/entity-event';

export const entityEventSignal = defineSignal<[EntityEvent]>('entityEvent');

export interface AppliedEvent {
  eventId: string;
  kind: EntityEventKind;
  outcome: 'applied' | 'echo' | 'duplicate' | 'stale' | 'ignored' | 'failed';
  detail?: string;
  at: string;
}

export interface EntityState {
  /** Event ids already handled (bounded), so a redelivery has no second effect. */
  seenEventIds: string[];
  /** Per system, the source timestamp of the last change applied from it. */
  lastSynced: Partial<Record<SourceSystem, string>>;
  /** Per canonical field, which system wrote it last and when (the conflict rule's memory). */
  fieldVersions: Record<string, { source: SourceSystem; at: string }>;
  /** What the coordinator last wrote into each system, per field (echo suppression by content). */
  lastWritten: Partial<Record<SourceSystem, Record<string, unknown>>>;
  /** Cross-references learned so far (Salesforce id, SAP number...). */
  links: Record<string, string>;
  /** The last outcomes, newest last (bounded), for operators. */
  recent: AppliedEvent[];
  /** Events applied since the workflow first started, across continue-as-new. */
  appliedCount: number;
}

export const getEntityStateQuery = defineQuery<EntityState & { pending: number; runEvents: number }>(
  'getEntityState',
);

export interface EntitySyncInput {
  route: EntityRoute;
  /** Field ownership of the order pair (FIELD_OWNERSHIP); ignored by other entity types. */
  ownership?: Record<string, FieldOwner>;
  /** Close after this long without events (default 1 hour). */
  idleTimeout?: string;
  /** Continue-as-new after this many events in one run (default 500) — or earlier when Temporal suggests it. */
  maxEventsPerRun?: number;
  /** Carried across continue-as-new. */
  state?: EntityState;
  pending?: EntityEvent[];
  temporalUiUrl?: string;
  /** Markers of the coordinator's own changes (read once from the worker's config, then carried). */
  ownMarkers?: string[];
}

export function emptyEntityState(): EntityState {
  return {
    seenEventIds: [],
    lastSynced: {},
    fieldVersions: {},
    lastWritten: {},
    links: {},
    recent: [],
    appliedCount: 0,
  };
}
