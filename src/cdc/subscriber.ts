import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Connection } from 'jsforce';
import {
  ChangeEventDecodeError,
  decodeChangeEvent,
  entityEventsOf,
  subscribedKind,
} from '../domain/change-events';
import type { DecodedChangeEvent } from '../domain/change-events';
import { routeEntityEvent } from '../domain/entity-event';
import { deliverEntityEvent } from '../ingress/entity-delivery';
import type { EntityDeliverySettings } from '../ingress/entity-delivery';
import type { batchSync } from '../workflows/batch-sync';
import { syncBackfillWorkflowId } from '../workflows/batch-sync.messages';
import type { SyncSpec } from '../workflows/batch-sync.messages';
import type { cdcSubscription } from '../workflows/cdc-subscription';
import type { CdcCatchUp, CdcProblem } from '../workflows/cdc-subscription.messages';
import {
  advanceReplayIdUpdate,
  cdcSubscriptionWorkflowId,
  getCdcSubscriptionQuery,
  reportCdcProblemUpdate,
} from '../workflows/cdc-subscription.messages';
import type { EntityEvent } from '../domain/entity-event';
import type { ConsumerEvent, FetchResponse, PubSubClient, PubSubError, ReplayPreset } from './pubsub-client';

/**
 * Subscribes to one Salesforce change channel over the Pub/Sub API and hands every change to the entity
 * workflows, at least once and in order:
 *
 * - starts after the replay id stored in the channel's `cdcSubscription` workflow (from LATEST when none
 *   is stored yet: what changed before the first start is the batch sync's job);
 * - asks for `batchSize` events at a time and for more only once those were handed over (flow control);
 * - per event: the schema (GetSchema, cached by id), Avro decoding, one entity event per record id, each
 *   delivered by signal-with-start exactly as the webhook ingress does (event id from the transaction key
 *   and sequence number, so a redelivered change is dropped by its workflow); then, per batch, the
 *   replay id of the last event is stored — only after everything before it was handed over;
 * - a malformed payload or an unknown schema id is reported (logged, alerted) and skipped; the stream goes
 *   on; gap events re-read their records;
 * - GAP_OVERFLOW, and a stored replay id the event bus no longer keeps (or refuses as corrupt), mean
 *   changes were lost: the subscriber starts the catch-up, a backfill run of the object's batch sync over
 *   the window at risk (from the last commit handed over, or the overflowing transaction's commit, to just
 *   after the new subscription started), reports it on the state workflow, and goes on from LATEST; the
 *   position moves only after the catch-up was started. Other stream errors resubscribe from the stored
 *   replay id with backoff; an expired session is refreshed through jsforce.
 */

export interface CdcLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface CdcSubscriberDeps {
  temporal: Client;
  pubsub: PubSubClient;
  /** The jsforce session shared with the Pub/Sub metadata: re-reads for gap events, session refresh. */
  salesforce: () => Promise<Connection>;
  delivery: EntityDeliverySettings;
  /** Task queue of the cdcSubscription state workflows (the coordinator queue). */
  stateQueue: string;
  /** Put before the state workflow id (tests sharing a namespace). */
  stateWorkflowIdPrefix?: string;
  /** num_requested per FetchRequest (Salesforce allows at most 100). */
  batchSize: number;
  log: CdcLogger;
  /** Called after each entity event was handed over (benchmarks, metrics). */
  onHandedOver?: (event: EntityEvent, commitTimestamp: number) => void;
  /** Longest pause between reconnection attempts (default 30 s). */
  maxBackoffMs?: number;
  /**
   * The batch sync that catches up this channel's object when changes were lost (expired or corrupt
   * replay id, GAP_OVERFLOW), and the task queue its runs go to. None: the loss is only alerted.
   */
  catchUp?: { spec: SyncSpec; queue: string };
}

type StreamOutcome =
  | { kind: 'stopped' }
  | { kind: 'ended' }
  | { kind: 'replay-id-expired' | 'replay-id-corrupt' | 'unauthenticated' | 'failed'; error: PubSubError };

export class ChannelSubscriber {
  private stopped = false;
  private running?: Promise<void>;
  private current?: { close(): void };
  private wake?: () => void;
  /** A preset to use instead of the stored replay id on the next subscription (after an expired id). */
  private nextStart?: ReplayPreset;
  /** An unusable stored position, reported with its catch-up once the subscription from LATEST is open. */
  private lostPosition?: { problem: Omit<CdcProblem, 'at'>; since?: string };
  readonly stats = { handedOver: 0, skipped: 0, subscriptions: 0, batchesStored: 0 };

  constructor(
    readonly channel: string,
    private readonly deps: CdcSubscriberDeps,
  ) {}

  private get workflowId(): string {
    return `${this.deps.stateWorkflowIdPrefix ?? ''}${cdcSubscriptionWorkflowId(this.channel)}`;
  }

  private state(): WorkflowHandle<typeof cdcSubscription> {
    return this.deps.temporal.workflow.getHandle<typeof cdcSubscription>(this.workflowId);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.close();
    this.wake?.();
    await this.running;
  }

  /** Resolves after ms, or at once when stopping. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Retries an operation that must not be skipped (a hand-over, storing the position) until it succeeds. */
  private async persist<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    let delay = 200;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopped) return undefined;
        this.deps.log.warn(`${what} failed; retrying`, {
          channel: this.channel,
          error: (err as Error).message,
        });
        await this.pause(delay);
        if (this.stopped) return undefined;
        delay = Math.min(delay * 2, this.deps.maxBackoffMs ?? 30_000);
      }
    }
  }

  private async ensureStateWorkflow(): Promise<void> {
    await this.deps.temporal.workflow.start<typeof cdcSubscription>('cdcSubscription', {
      workflowId: this.workflowId,
      taskQueue: this.deps.stateQueue,
      args: [{ channel: this.channel, temporalUiUrl: this.deps.delivery.temporalUiUrl }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }

  /**
   * Starts the catch-up of changes committed since `since`: a backfill run of the object's batch sync over
   * SystemModstamp [since - margin, now + margin]. The margin (the sync's lookback, at least a minute)
   * covers a SystemModstamp set before its commit, the clock difference between Salesforce and here, and
   * the moment the new subscription from LATEST takes effect. Its workflow id is made from the range, so
   * a retried start is the same run. Undefined when no batch sync covers the object or when stopping.
   */
  private async startCatchUp(since: string | undefined): Promise<CdcCatchUp | undefined> {
    const sync = this.deps.catchUp;
    if (!sync || !since) return undefined;
    const margin = Math.max(sync.spec.lookbackSeconds, 60) * 1000;
    const range = {
      from: new Date(Date.parse(since) - margin).toISOString(),
      to: new Date(Date.now() + margin).toISOString(),
    };
    const workflowId = syncBackfillWorkflowId(sync.spec.name, range);
    const started = await this.persist('starting the catch-up', () =>
      this.deps.temporal.workflow.start<typeof batchSync>('batchSync', {
        workflowId,
        taskQueue: sync.queue,
        args: [{ spec: sync.spec, mode: 'backfill', backfill: range }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    );
    if (!started) return undefined;
    this.deps.log.info(`catch-up started for ${this.channel}`, { workflowId, ...range });
    return { sync: sync.spec.name, workflowId, ...range };
  }

  private async report(problem: Omit<CdcProblem, 'at'>): Promise<void> {
    this.deps.log.error(`change events on ${this.channel}: ${problem.kind}`, { ...problem });
    await this.persist('reporting a problem', () =>
      this.state().executeUpdate(reportCdcProblemUpdate, { args: [problem] }),
    );
  }

  private async run(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      const ready = await this.persist('starting the subscription state workflow', () =>
        this.ensureStateWorkflow().then(() => this.state().query(getCdcSubscriptionQuery)),
      );
      if (!ready || this.stopped) return;
      const stored = ready.replayId;
      const preset: ReplayPreset = this.nextStart ?? (stored ? 'CUSTOM' : 'LATEST');
      this.nextStart = undefined;
      const outcome = await this.stream(
        preset,
        preset === 'CUSTOM' ? Buffer.from(stored!, 'base64') : undefined,
        stored,
      );
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'replay-id-expired':
        case 'replay-id-corrupt':
          // The documented preset after an unusable position: the latest event; the catch-up covers the
          // changes since the last commit handed over (reported once the new subscription is open).
          this.lostPosition = {
            problem: {
              kind: outcome.kind,
              detail: `stored replay id ${stored ?? '(none)'} refused: ${outcome.error.errorCode ?? outcome.error.code} ${outcome.error.message}`,
              ...(stored ? { replayId: stored } : {}),
            },
            since: ready.lastCommitAt ?? ready.storedAt,
          };
          this.nextStart = 'LATEST';
          backoff = 500;
          continue;
        case 'unauthenticated':
          this.deps.log.warn('Pub/Sub session rejected; refreshing it', { channel: this.channel });
          // Any REST call with the expired token makes jsforce refresh the session (refresh token or
          // client-credentials refresh function); the next Subscribe carries the new token.
          await this.deps
            .salesforce()
            .then((conn) => conn.limits())
            .catch((err: unknown) =>
              this.deps.log.error('session refresh failed', { error: (err as Error).message }),
            );
          break;
        case 'ended':
        case 'failed':
          if (outcome.kind === 'failed')
            this.deps.log.warn('Pub/Sub stream failed; resubscribing', {
              channel: this.channel,
              ...outcome.error,
            });
          break;
      }
      await this.pause(backoff);
      backoff = Math.min(backoff * 2, this.deps.maxBackoffMs ?? 30_000);
    }
  }

  /** One Subscribe stream, until it ends, fails or the subscriber stops. */
  private async stream(
    preset: ReplayPreset,
    replayId: Buffer | undefined,
    stored: string | undefined,
  ): Promise<StreamOutcome> {
    let chain = Promise.resolve();
    let outstanding = 0;
    let position = stored;
    let settle!: (o: StreamOutcome) => void;
    const done = new Promise<StreamOutcome>((resolve) => (settle = resolve));
    const queued: FetchResponse[] = [];
    let draining = false;
    const drain = async (): Promise<void> => {
      while (queued.length > 0 && !this.stopped) {
        const responses = queued.splice(0);
        const events = responses.flatMap((r) => r.events);
        const batch = await this.processBatch(events);
        if (batch === undefined) return; // stopping: nothing stored, the batch is read again later
        const latest =
          events.length > 0
            ? events[events.length - 1]!.replay_id
            : responses[responses.length - 1]!.latest_replay_id;
        const latestText = latest.length > 0 ? latest.toString('base64') : undefined;
        // Stored only now: every event up to this replay id was handed over (or reported and skipped).
        // A keepalive's latest replay id is stored too when nothing is in flight, so a quiet channel's
        // position stays inside the retention window.
        if (latestText && latestText !== position) {
          const ok = await this.persist('storing the replay id', () =>
            this.state().executeUpdate(advanceReplayIdUpdate, {
              args: [{ replayId: latestText, ...batch }],
            }),
          );
          if (!ok) return;
          position = latestText;
          this.stats.batchesStored += 1;
        }
        outstanding -= events.length;
        // Flow control: ask for more once half of what was requested has been handed over, so the
        // next events are on their way while these are stored; never more than batchSize outstanding.
        if (outstanding <= this.deps.batchSize / 2 && !this.stopped) {
          sub.request(this.deps.batchSize - outstanding);
          outstanding = this.deps.batchSize;
        }
      }
      draining = false;
    };

    const sub = await this.deps.pubsub.subscribe(
      this.channel,
      { preset, replayId },
      {
        onResponse: (res) => {
          // Responses that arrive while a batch is being handed over wait here and are then handed over
          // together, with one stored position: under load batches grow, up to the requested number.
          queued.push(res);
          if (draining) return;
          draining = true;
          chain = chain.then(drain);
        },
        onError: (error) => {
          const code = error.errorCode ?? '';
          const kind =
            error.code === 16
              ? 'unauthenticated'
              : /replayid\.corrupted/.test(code)
                ? 'replay-id-corrupt'
                : /replayid/.test(code) || (error.code === 3 && /replay/i.test(error.message))
                  ? 'replay-id-expired'
                  : 'failed';
          void chain.then(() => settle(this.stopped ? { kind: 'stopped' } : { kind, error }));
        },
        onEnd: () => void chain.then(() => settle(this.stopped ? { kind: 'stopped' } : { kind: 'ended' })),
      },
    );
    this.current = {
      close: () => {
        sub.close();
        settle({ kind: 'stopped' });
      },
    };
    this.stats.subscriptions += 1;
    this.deps.log.info(`subscribed to ${this.channel}`, { preset, from: stored });
    const lost = this.lostPosition;
    if (lost) {
      // Before the first request: no new position can be stored before the catch-up has started.
      const catchUp = await this.startCatchUp(lost.since);
      if (this.stopped) return this.finish(sub, done, chain);
      await this.report({ ...lost.problem, ...(catchUp ? { catchUp } : {}) });
      this.lostPosition = undefined;
    }
    outstanding = this.deps.batchSize;
    sub.request(this.deps.batchSize);
    return this.finish(sub, done, chain);
  }

  private async finish(
    sub: { close(): void },
    done: Promise<StreamOutcome>,
    chain: Promise<void>,
  ): Promise<StreamOutcome> {
    const outcome = await done;
    sub.close();
    await chain;
    return outcome;
  }

  /**
   * Hands over a batch of events: decoded in order, then the entity events of different records handed
   * over concurrently, those of one record one after the other in their order (each record's workflow
   * sees its changes in commit order; records are independent). Returns how many were handed over and
   * the newest commit among them, or undefined when stopping.
   */
  private async processBatch(
    batch: ConsumerEvent[],
  ): Promise<{ handedOver: number; lastCommitAt?: string } | undefined> {
    let lastCommit = 0;
    const receivedAt = new Date().toISOString();
    const byWorkflow = new Map<string, { event: EntityEvent; commit: number }[]>();
    for (const event of batch) {
      const decoded = await this.decode(event);
      if (!decoded) continue;
      const events = await this.entityEvents(decoded, receivedAt, event);
      if (this.stopped) return undefined;
      for (const e of events) {
        const key = routeEntityEvent(e).workflowId;
        byWorkflow.set(key, [
          ...(byWorkflow.get(key) ?? []),
          { event: e, commit: decoded.header.commitTimestamp },
        ]);
      }
      if (events.length > 0) lastCommit = Math.max(lastCommit, decoded.header.commitTimestamp);
    }
    const handed = await Promise.all(
      [...byWorkflow.values()].map(async (inOrder) => {
        for (const { event, commit } of inOrder) {
          const ok = await this.persist(`handing over ${event.eventId}`, () =>
            deliverEntityEvent(this.deps.temporal, this.deps.delivery, event),
          );
          if (!ok) return undefined;
          this.stats.handedOver += 1;
          this.deps.onHandedOver?.(event, commit);
        }
        return inOrder.length;
      }),
    );
    if (handed.some((n) => n === undefined)) return undefined;
    return {
      handedOver: handed.reduce<number>((a, n) => a + (n ?? 0), 0),
      ...(lastCommit > 0 ? { lastCommitAt: new Date(lastCommit).toISOString() } : {}),
    };
  }

  private async decode(event: ConsumerEvent): Promise<DecodedChangeEvent | undefined> {
    const replayId = event.replay_id.toString('base64');
    let schema;
    try {
      schema = await this.deps.pubsub.schema(event.event.schema_id);
    } catch (err) {
      this.stats.skipped += 1;
      await this.report({
        kind: 'unknown-schema',
        detail: `schema ${event.event.schema_id} of the event could not be read: ${(err as Error).message}`,
        replayId,
      });
      return undefined;
    }
    try {
      const record = schema.type.fromBuffer(event.event.payload) as Record<string, unknown>;
      return decodeChangeEvent(schema.json, record);
    } catch (err) {
      this.stats.skipped += 1;
      await this.report({
        kind: 'malformed-event',
        detail: `the payload does not decode with schema ${schema.id}: ${err instanceof ChangeEventDecodeError ? err.message : (err as Error).message}`,
        replayId,
      });
      return undefined;
    }
  }

  private async entityEvents(
    decoded: DecodedChangeEvent,
    receivedAt: string,
    raw: ConsumerEvent,
  ): Promise<EntityEvent[]> {
    const { header } = decoded;
    if (header.changeType === 'GAP_OVERFLOW') {
      // Salesforce's advice: the changes are not in the stream; read them from the object itself.
      const catchUp = await this.startCatchUp(new Date(header.commitTimestamp || Date.now()).toISOString());
      if (this.stopped) return [];
      await this.report({
        kind: 'gap-overflow',
        detail: `${header.entityName} changes of transaction ${header.transactionKey} exceeded what change events carry`,
        replayId: raw.replay_id.toString('base64'),
        ...(catchUp ? { catchUp } : {}),
      });
      return [];
    }
    const mapped = entityEventsOf(decoded, receivedAt);
    if ('ignored' in mapped) return [];
    if (!header.changeType.startsWith('GAP_')) return mapped.events;
    // A gap event carries no values: re-read the records it names and hand over what they hold now.
    const kind = subscribedKind(header.entityName, header.changeType);
    if (!kind) return [];
    let records: (Record<string, unknown> | null)[] | undefined;
    for (let attempt = 1; attempt <= 5 && !records; attempt += 1) {
      try {
        const conn = await this.deps.salesforce();
        const read = await conn.sobject(header.entityName).retrieve(mapped.events.map((e) => e.recordId));
        records = Array.isArray(read) ? read : [read];
      } catch (err) {
        if (attempt === 5 || this.stopped) {
          await this.report({
            kind: 'gap-unreadable',
            detail: `${header.changeType} for ${header.recordIds.join(', ')}: ${(err as Error).message}`,
            replayId: raw.replay_id.toString('base64'),
          });
          return [];
        }
        await this.pause(500 * attempt);
      }
    }
    return mapped.events.flatMap((e, i) => {
      const record = records?.[i];
      if (!record) return []; // deleted since: nothing to apply
      const { attributes: _a, Id: _id, ...fields } = record;
      return [{ ...e, fields }];
    });
  }
}
