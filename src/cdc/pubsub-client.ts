import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Type } from 'avsc';
import type { Schema } from 'avsc';
import type { AvroRecordSchema } from '../domain/change-events';

/**
 * A Salesforce Pub/Sub API client on `@grpc/grpc-js` with the published `pubsub_api.proto` (as the
 * `salesforce-pubsub-api-client` package ships it) and `avsc` for the Avro payloads. TLS always (Salesforce
 * serves only TLS); each call carries `accesstoken`, `instanceurl` and `tenantid` from the caller's OAuth2
 * session — the same jsforce session the activities use — read at call time, so a refreshed token is used
 * by the next call.
 *
 * Written directly on gRPC rather than through the `salesforce-pubsub-api-client` package because the
 * subscriber needs what that package hides: replay ids kept as the opaque bytes Salesforce sends, flow
 * control driven by hand-over rather than by arrival, and the raw error status and `error-code` trailer.
 */

export interface PubSubSession {
  accessToken: string;
  instanceUrl: string;
  organizationId: string;
}

export interface PubSubClientOptions {
  /** `host:port`, e.g. `api.pubsub.salesforce.com:7443`. */
  endpoint: string;
  /** PEM of the certificate authority to trust instead of the system's (a simulator's self-signed one). */
  caCertificate?: string;
  session: () => Promise<PubSubSession>;
}

export type ReplayPreset = 'LATEST' | 'EARLIEST' | 'CUSTOM';

export interface ConsumerEvent {
  event: { id: string; schema_id: string; payload: Buffer };
  replay_id: Buffer;
}

export interface FetchResponse {
  events: ConsumerEvent[];
  latest_replay_id: Buffer;
  rpc_id: string;
  pending_num_requested: number;
}

export interface PubSubError {
  code: number;
  /** Salesforce's `error-code` trailer, e.g. sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted */
  errorCode?: string;
  message: string;
}

export interface Subscription {
  /** Asks for n more events (flow control). */
  request(n: number): void;
  close(): void;
}

export interface LoadedSchema {
  id: string;
  json: AvroRecordSchema;
  type: Type;
}

interface RawStream {
  write(msg: unknown): boolean;
  end(): void;
  cancel(): void;
  on(event: 'data', cb: (r: FetchResponse) => void): void;
  on(event: 'error', cb: (e: grpc.ServiceError) => void): void;
  on(event: 'end' | 'close', cb: () => void): void;
}

interface PubSubStub extends grpc.Client {
  GetTopic(
    req: { topic_name: string },
    meta: grpc.Metadata,
    cb: grpc.requestCallback<{ schema_id: string }>,
  ): void;
  GetSchema(
    req: { schema_id: string },
    meta: grpc.Metadata,
    cb: grpc.requestCallback<{ schema_id: string; schema_json: string }>,
  ): void;
  Subscribe(meta: grpc.Metadata): RawStream;
}

export function pubSubProtoPath(): string {
  return path.resolve(path.dirname(require.resolve('salesforce-pubsub-api-client')), '../pubsub_api.proto');
}

export function toPubSubError(err: grpc.ServiceError | Error): PubSubError {
  const e = err as Partial<grpc.ServiceError>;
  const trailer = e.metadata?.get('error-code')[0];
  return {
    code: typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN,
    ...(trailer !== undefined ? { errorCode: String(trailer) } : {}),
    message: e.details ?? err.message,
  };
}

export class PubSubClient {
  private readonly stub: PubSubStub;
  private readonly schemas = new Map<string, Promise<LoadedSchema>>();

  constructor(private readonly options: PubSubClientOptions) {
    const definition = protoLoader.loadSync(pubSubProtoPath(), {
      keepCase: true,
      enums: String,
      longs: Number,
      defaults: true,
    });
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      eventbus: { v1: { PubSub: new (address: string, credentials: grpc.ChannelCredentials) => PubSubStub } };
    };
    const tls = grpc.credentials.createSsl(
      options.caCertificate ? Buffer.from(options.caCertificate) : undefined,
    );
    this.stub = new proto.eventbus.v1.PubSub(options.endpoint, tls);
  }

  private async metadata(): Promise<grpc.Metadata> {
    const s = await this.options.session();
    const meta = new grpc.Metadata();
    meta.set('accesstoken', s.accessToken);
    meta.set('instanceurl', s.instanceUrl);
    meta.set('tenantid', s.organizationId);
    return meta;
  }

  async topicSchemaId(topicName: string): Promise<string> {
    const meta = await this.metadata();
    return new Promise((resolve, reject) =>
      this.stub.GetTopic({ topic_name: topicName }, meta, (err, res) =>
        err || !res ? reject(err ?? new Error('empty GetTopic answer')) : resolve(res.schema_id),
      ),
    );
  }

  /** The Avro schema of an event, cached by id (a schema id names one version of a schema). */
  schema(schemaId: string): Promise<LoadedSchema> {
    let cached = this.schemas.get(schemaId);
    if (!cached) {
      cached = this.metadata().then(
        (meta) =>
          new Promise<LoadedSchema>((resolve, reject) =>
            this.stub.GetSchema({ schema_id: schemaId }, meta, (err, res) => {
              if (err || !res) return reject(err ?? new Error('empty GetSchema answer'));
              const json = JSON.parse(res.schema_json) as AvroRecordSchema;
              resolve({ id: schemaId, json, type: Type.forSchema(json as unknown as Schema) });
            }),
          ),
      );
      // A failed lookup is not cached: the next event with that id asks again.
      cached.catch(() => this.schemas.delete(schemaId));
      this.schemas.set(schemaId, cached);
    }
    return cached;
  }

  /**
   * Opens a Subscribe stream. Nothing is delivered until `request(n)`; the first request carries the
   * starting point.
   */
  async subscribe(
    topicName: string,
    start: { preset: ReplayPreset; replayId?: Buffer },
    handlers: {
      onResponse: (res: FetchResponse) => void;
      onError: (err: PubSubError) => void;
      onEnd: () => void;
    },
  ): Promise<Subscription> {
    const stream = this.stub.Subscribe(await this.metadata());
    let first = true;
    let closed = false;
    stream.on('data', (res) => handlers.onResponse(res));
    stream.on('error', (err) => {
      if (!closed) handlers.onError(toPubSubError(err));
      closed = true;
    });
    stream.on('end', () => {
      if (!closed) handlers.onEnd();
      closed = true;
    });
    return {
      request(n) {
        if (closed) return;
        if (first) {
          first = false;
          stream.write({
            topic_name: topicName,
            replay_preset: start.preset,
            ...(start.replayId ? { replay_id: start.replayId } : {}),
            num_requested: n,
          });
        } else {
          stream.write({ num_requested: n });
        }
      },
      close() {
        if (closed) return;
        closed = true;
        stream.cancel();
      },
    };
  }

  close(): void {
    this.stub.close();
  }
}
