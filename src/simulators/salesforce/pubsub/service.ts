import { randomUUID } from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { generate } from 'selfsigned';
import { SCHEMA } from '../schema';
import type { Change } from '../store';
import { buildChangeSchema } from './change-schema';
import type { ChangeSchema, ChangeType } from './change-schema';
import { changeEventRecords, encodeChangeEvent, gapEventRecord } from './change-events';
import type { ChangeEventRecord, TransactionInfo } from './change-events';

/**
 * The Pub/Sub API (gRPC service `eventbus.v1.PubSub`, from the published `pubsub_api.proto`) of the
 * Salesforce simulator, on a port of its own and over TLS only, like `api.pubsub.salesforce.com:7443`.
 *
 * - Every call must carry the metadata `accesstoken` (a session the simulator's OAuth2 endpoint issued),
 *   `instanceurl` and `tenantid` (the org id); otherwise UNAUTHENTICATED.
 * - `GetTopic` / `GetSchema`: change event channels `/data/<Object>ChangeEvent` and their Avro schemas.
 * - `Subscribe`: replay presets LATEST / EARLIEST / CUSTOM (start after the given replay id), flow
 *   control by `num_requested` (never more events than requested; at most 100 per request), keepalive
 *   responses without events that carry the latest replay id, retention (events older than it are
 *   purged; a replay id from before the purge is refused with INVALID_ARGUMENT).
 * - Replay ids are opaque 8-byte values. Errors carry Salesforce's `error-code` trailer.
 *
 * Faults on demand (admin surface): gap and overflow events, a malformed payload, an event whose
 * schema id is unknown, and purging the retained events.
 */

export interface PubSubOptions {
  orgId: string;
  /** True when the access token is a live session of the simulator. */
  isValidSession: (accessToken: string) => boolean;
  /** How long events are kept (Salesforce: 72 hours). */
  retentionMs?: number;
  /** An empty FetchResponse goes out after this long without events (Salesforce: within 270 s). */
  keepaliveMs?: number;
  now?: () => number;
}

export interface PubSubEventInfo {
  channel: string;
  replayId: string;
  schemaId: string;
  /** Absent for injected malformed / unknown-schema events. */
  header?: ChangeEventRecord['ChangeEventHeader'];
  committedAt: number;
}

interface StoredEvent {
  replayId: bigint;
  channel: string;
  schemaId: string;
  payload: Buffer;
  committedAt: number;
  record?: ChangeEventRecord;
}

interface Subscription {
  channel: string;
  /** Deliver events with a replay id greater than this. */
  after: bigint;
  pending: number;
  lastSentAt: number;
  call: grpc.ServerDuplexStream<FetchRequest, unknown>;
  timer?: NodeJS.Timeout;
  closed: boolean;
}

interface FetchRequest {
  topic_name?: string;
  replay_preset?: string | number;
  replay_id?: Buffer;
  num_requested?: number;
}

export const PUBSUB_ERROR_CODES = {
  auth: 'sfdc.platform.eventbus.grpc.service.auth.error',
  topicNotFound: 'sfdc.platform.eventbus.grpc.topic.not.found',
  schemaNotFound: 'sfdc.platform.eventbus.grpc.schema.not.found',
  replayIdCorrupted: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
  replayIdInvalid: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.invalid',
  badRequest: 'sfdc.platform.eventbus.grpc.subscription.fetch.invalid.request',
} as const;

const MAX_PER_REQUEST = 100;

/** The published proto, as the `salesforce-pubsub-api-client` package ships it. */
export function pubSubProtoPath(): string {
  return path.resolve(path.dirname(require.resolve('salesforce-pubsub-api-client')), '../pubsub_api.proto');
}

export function encodeReplayId(id: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(id);
  return buf;
}

function serviceError(code: grpc.status, errorCode: string, message: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  const rpcId = randomUUID();
  metadata.set('error-code', errorCode);
  metadata.set('rpc-id', rpcId);
  return Object.assign(new Error(`${message} rpcId: ${rpcId}`), {
    code,
    details: `${message} rpcId: ${rpcId}`,
    metadata,
  });
}

/** Ends a stream with an error status and its trailers (grpc-js turns an 'error' event into the status). */
function failStream(call: grpc.ServerDuplexStream<FetchRequest, unknown>, err: grpc.ServiceError): void {
  call.emit('error', err);
}

export interface PubSubService {
  /** Records one API transaction's committed changes as change events (a few hook lines call this). */
  publish(changes: readonly Change[], tx: TransactionInfo): void;
  /** A gap event for records (GAP_CREATE, GAP_UPDATE, …) or a GAP_OVERFLOW for the object. */
  injectGap(entity: string, changeType: Extract<ChangeType, `GAP_${string}`>, recordIds: string[]): string;
  /** An event whose payload is not valid Avro for its schema. */
  injectMalformed(entity: string): string;
  /** An event whose schema id GetSchema does not know. */
  injectUnknownSchema(entity: string): string;
  /** Purges every retained event (as if the retention window had passed); returns how many. */
  purge(): number;
  events(channel?: string): PubSubEventInfo[];
  schemas(): ChangeSchema[];
  latestReplayId(): string;
  /** Open subscriptions: channel, events still requested and not yet sent. */
  subscribers(): { channel: string; pending: number }[];
  start(port: number, host?: string): Promise<{ port: number; endpoint: string; caCertificate: string }>;
  stop(): Promise<void>;
  reset(): void;
}

export function createPubSubService(options: PubSubOptions): PubSubService {
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionMs ?? 72 * 60 * 60 * 1000;
  const keepaliveMs = options.keepaliveMs ?? 270_000;
  const schemas = new Map<string, ChangeSchema>();
  for (const def of SCHEMA.values()) {
    const s = buildChangeSchema(def);
    schemas.set(s.channel, s);
  }
  const schemaById = new Map([...schemas.values()].map((s) => [s.schemaId, s]));
  let events: StoredEvent[] = [];
  let lastReplayId = 0n;
  /** Highest replay id purged so far: a CUSTOM replay id below it would skip lost events. */
  let purgedThrough = 0n;
  const subscriptions = new Set<Subscription>();
  let server: grpc.Server | undefined;

  const enforceRetention = () => {
    const cutoff = now() - retentionMs;
    const keepFrom = events.findIndex((e) => e.committedAt >= cutoff);
    const purged = keepFrom < 0 ? events : events.slice(0, keepFrom);
    if (purged.length > 0) {
      purgedThrough = purged[purged.length - 1]!.replayId;
      events = keepFrom < 0 ? [] : events.slice(keepFrom);
    }
  };

  const append = (channel: string, schemaId: string, payload: Buffer, record?: ChangeEventRecord) => {
    lastReplayId += 1n;
    events.push({ replayId: lastReplayId, channel, schemaId, payload, committedAt: now(), record });
    for (const s of subscriptions) pump(s);
    return lastReplayId.toString();
  };

  const channelOf = (entity: string) => {
    const schema = schemas.get(`/data/${entity}ChangeEvent`);
    if (!schema) throw new Error(`no change event channel for ${entity}`);
    return schema;
  };

  const send = (s: Subscription, batch: StoredEvent[]) => {
    const latest = batch.length > 0 ? batch[batch.length - 1]!.replayId : lastReplayId;
    s.call.write({
      events: batch.map((e) => ({
        event: { id: '', schema_id: e.schemaId, payload: e.payload, headers: [] },
        replay_id: encodeReplayId(e.replayId),
      })),
      latest_replay_id: encodeReplayId(latest),
      rpc_id: randomUUID(),
      pending_num_requested: s.pending,
    });
    s.lastSentAt = now();
  };

  function pump(s: Subscription): void {
    if (s.closed || s.pending <= 0) return;
    const batch: StoredEvent[] = [];
    // Events are kept in replay id order: start at the first one after the subscription's position
    // (binary search), so a long retention does not make every delivery scan the whole log.
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (events[mid]!.replayId > s.after) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < events.length && batch.length < s.pending; i++) {
      const e = events[i]!;
      if (e.channel === s.channel) batch.push(e);
    }
    if (batch.length === 0) return;
    s.pending -= batch.length;
    s.after = batch[batch.length - 1]!.replayId;
    send(s, batch);
  }

  const authenticate = (metadata: grpc.Metadata): grpc.ServiceError | undefined => {
    const token = String(metadata.get('accesstoken')[0] ?? '');
    const tenant = String(metadata.get('tenantid')[0] ?? '');
    const instance = String(metadata.get('instanceurl')[0] ?? '');
    if (!token || !instance || !options.isValidSession(token)) {
      return serviceError(
        grpc.status.UNAUTHENTICATED,
        PUBSUB_ERROR_CODES.auth,
        'An authentication exception occurred. Provide valid authentication via metadata headers.',
      );
    }
    if (tenant !== options.orgId && tenant !== options.orgId.slice(0, 15)) {
      return serviceError(
        grpc.status.PERMISSION_DENIED,
        PUBSUB_ERROR_CODES.auth,
        `The tenant id ${tenant} does not match the session's org.`,
      );
    }
    return undefined;
  };

  /** Where a new subscription starts, or the error Salesforce answers. */
  const startingPoint = (req: FetchRequest): bigint | grpc.ServiceError => {
    enforceRetention();
    const preset = req.replay_preset ?? 'LATEST';
    if (preset === 'EARLIEST' || preset === 1) return purgedThrough;
    if (preset === 'CUSTOM' || preset === 2) {
      const raw = req.replay_id ?? Buffer.alloc(0);
      if (raw.length !== 8) {
        return serviceError(
          grpc.status.INVALID_ARGUMENT,
          PUBSUB_ERROR_CODES.replayIdCorrupted,
          'The Replay ID validation failed. Ensure that the Replay ID is valid.',
        );
      }
      const id = raw.readBigUInt64BE();
      if (id < purgedThrough || id > lastReplayId) {
        return serviceError(
          grpc.status.INVALID_ARGUMENT,
          PUBSUB_ERROR_CODES.replayIdInvalid,
          `The Replay ID ${id} is not within the retention window of the event bus, or does not exist. Subscribe with a replay preset instead.`,
        );
      }
      return id;
    }
    return lastReplayId;
  };

  const subscribe = (call: grpc.ServerDuplexStream<FetchRequest, unknown>) => {
    const authError = authenticate(call.metadata);
    if (authError) {
      failStream(call, authError);
      return;
    }
    let s: Subscription | undefined;
    const close = () => {
      if (!s) return;
      s.closed = true;
      clearInterval(s.timer);
      subscriptions.delete(s);
    };
    call.on('data', (req: FetchRequest) => {
      const requested = Math.min(Math.max(req.num_requested ?? 0, 0), MAX_PER_REQUEST);
      if (!s) {
        const schema = schemas.get(req.topic_name ?? '');
        if (!schema) {
          failStream(
            call,
            serviceError(
              grpc.status.NOT_FOUND,
              PUBSUB_ERROR_CODES.topicNotFound,
              `Topic ${req.topic_name ?? ''} does not exist or you lack access to it.`,
            ),
          );
          return;
        }
        if (requested <= 0) {
          failStream(
            call,
            serviceError(
              grpc.status.INVALID_ARGUMENT,
              PUBSUB_ERROR_CODES.badRequest,
              'num_requested must be greater than 0.',
            ),
          );
          return;
        }
        const start = startingPoint(req);
        if (typeof start !== 'bigint') {
          failStream(call, start);
          return;
        }
        s = { channel: schema.channel, after: start, pending: 0, lastSentAt: now(), call, closed: false };
        const sub = s;
        subscriptions.add(sub);
        sub.timer = setInterval(
          () => {
            if (!sub.closed && now() - sub.lastSentAt >= keepaliveMs) send(sub, []);
          },
          Math.min(keepaliveMs, 1000),
        );
        sub.timer.unref();
      }
      s.pending += requested;
      pump(s);
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
  };

  const unary =
    <Req, Res>(handler: (req: Req) => Res | grpc.ServiceError) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      const authError = authenticate(call.metadata);
      if (authError) return callback(authError);
      const result = handler(call.request);
      if (result instanceof Error) return callback(result);
      return callback(null, result);
    };

  const unimplemented = (_call: unknown, callback?: grpc.sendUnaryData<unknown>) => {
    const err = serviceError(
      grpc.status.UNIMPLEMENTED,
      'sfdc.platform.eventbus.grpc.service.unimplemented',
      'The simulator implements GetTopic, GetSchema and Subscribe.',
    );
    if (typeof callback === 'function') callback(err);
    else (_call as { destroy(e: Error): void }).destroy(err);
  };

  return {
    publish(changes, tx) {
      const byEntity = new Map<string, Change[]>();
      for (const c of changes) byEntity.set(c.entityName, [...(byEntity.get(c.entityName) ?? []), c]);
      let sequence = 1;
      for (const [entity, list] of byEntity) {
        const schema = schemas.get(`/data/${entity}ChangeEvent`);
        if (!schema) continue;
        for (const record of changeEventRecords(schema, list, tx, sequence)) {
          sequence += 1;
          append(schema.channel, schema.schemaId, encodeChangeEvent(schema, record), record);
        }
      }
    },
    injectGap(entity, changeType, recordIds) {
      const schema = channelOf(entity);
      const record = gapEventRecord(schema, changeType, recordIds, {
        transactionKey: randomUUID(),
        commitNumber: 0,
        changeOrigin: '',
        commitTimestamp: now(),
        commitUser: '',
      });
      return append(schema.channel, schema.schemaId, encodeChangeEvent(schema, record), record);
    },
    injectMalformed(entity) {
      const schema = channelOf(entity);
      // A union index far out of range: no Avro decoder can read this as the channel's schema.
      return append(schema.channel, schema.schemaId, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    },
    injectUnknownSchema(entity) {
      const schema = channelOf(entity);
      return append(schema.channel, 'UnknownSchemaId0000000', Buffer.from([0x00]));
    },
    purge() {
      const n = events.length;
      if (n > 0) purgedThrough = events[n - 1]!.replayId;
      events = [];
      return n;
    },
    events(channel) {
      enforceRetention();
      return events
        .filter((e) => !channel || e.channel === channel)
        .map((e) => ({
          channel: e.channel,
          replayId: e.replayId.toString(),
          schemaId: e.schemaId,
          header: e.record?.ChangeEventHeader,
          committedAt: e.committedAt,
        }));
    },
    schemas: () => [...schemas.values()],
    latestReplayId: () => lastReplayId.toString(),
    subscribers: () => [...subscriptions].map((sub) => ({ channel: sub.channel, pending: sub.pending })),
    async start(port, host = '127.0.0.1') {
      const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        notAfterDate: new Date(Date.now() + 7 * 24 * 60 * 60 * 1000),
        extensions: [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
            ],
          },
        ],
      });
      const definition = protoLoader.loadSync(pubSubProtoPath(), {
        keepCase: true,
        enums: String,
        longs: String,
        defaults: true,
      });
      const proto = grpc.loadPackageDefinition(definition) as unknown as {
        eventbus: { v1: { PubSub: { service: grpc.ServiceDefinition } } };
      };
      server = new grpc.Server();
      server.addService(proto.eventbus.v1.PubSub.service, {
        GetTopic: unary<{ topic_name: string }, unknown>((req) => {
          const schema = schemas.get(req.topic_name);
          if (!schema) {
            return serviceError(
              grpc.status.NOT_FOUND,
              PUBSUB_ERROR_CODES.topicNotFound,
              `Topic ${req.topic_name} does not exist or you lack access to it.`,
            );
          }
          return {
            topic_name: schema.channel,
            tenant_guid: options.orgId,
            can_publish: false,
            can_subscribe: true,
            schema_id: schema.schemaId,
            rpc_id: randomUUID(),
          };
        }),
        GetSchema: unary<{ schema_id: string }, unknown>((req) => {
          const schema = schemaById.get(req.schema_id);
          if (!schema) {
            return serviceError(
              grpc.status.NOT_FOUND,
              PUBSUB_ERROR_CODES.schemaNotFound,
              `Schema ${req.schema_id} was not found.`,
            );
          }
          return { schema_json: schema.json, schema_id: schema.schemaId, rpc_id: randomUUID() };
        }),
        Subscribe: subscribe,
        Publish: unimplemented,
        PublishStream: unimplemented,
        ManagedSubscribe: unimplemented,
      });
      const credentials = grpc.ServerCredentials.createSsl(
        null,
        [{ private_key: Buffer.from(pems.private), cert_chain: Buffer.from(pems.cert) }],
        false,
      );
      const bound = await new Promise<number>((resolve, reject) =>
        server!.bindAsync(`${host}:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
      );
      return { port: bound, endpoint: `${host}:${bound}`, caCertificate: pems.cert };
    },
    async stop() {
      for (const s of subscriptions) {
        s.closed = true;
        clearInterval(s.timer);
        s.call.end();
      }
      subscriptions.clear();
      const running = server;
      server = undefined;
      if (!running) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          running.forceShutdown();
          resolve();
        }, 2000);
        running.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
    reset() {
      for (const s of subscriptions) {
        s.closed = true;
        clearInterval(s.timer);
        s.call.end();
      }
      subscriptions.clear();
      events = [];
      purgedThrough = lastReplayId;
    },
  };
}
