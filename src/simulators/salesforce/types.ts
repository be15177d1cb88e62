import type { PubSubService } from './pubsub/service';
/** The Salesforce simulator's public types and constants. */
import type { RunningSimulator, SimulatorCore, SimulatorListenOptions } from '../common/server';
import type { OutboundEvents, OutboundTarget } from '../common/outbound';

export const SALESFORCE_FAULT_KINDS = [
  'server-unavailable',
  'unable-to-lock-row',
  'request-limit-exceeded',
  'session-expired',
  'server-error',
  'timeout',
] as const;

export const MIN_API_VERSION = 42;
export const MAX_API_VERSION = 62;

export interface SalesforceSimulatorOptions {
  /** Connected app consumer key / secret. */
  clientId?: string;
  clientSecret?: string;
  /** The integration user for the password grant (and the run-as user of client_credentials). */
  username?: string;
  password?: string;
  /** 15- or 18-char ids of the org, the integration user and the "UI" user that makes admin-side changes. */
  orgId?: string;
  userId?: string;
  uiUserId?: string;
  /** Lifetime of an access token (default 2 h). */
  sessionTtlMs?: number;
  /** Daily API request allowance; calls beyond it get 403 REQUEST_LIMIT_EXCEEDED (default 15000). */
  dailyApiLimit?: number;
  /** The rolling window the daily allowance is counted over (default 24 h; tests shorten it). */
  apiUsageWindowMs?: number;
  /** How long a Bulk API 2.0 query job takes to reach JobComplete (default 50 ms). */
  bulkQueryProcessingMs?: number;
  /** Records per Bulk API 2.0 results set when the client sends no maxRecords (default 50000). */
  bulkQueryMaxRecords?: number;
  /** Records per query batch unless the client asks for a batch size (default 2000). */
  queryBatchSize?: number;
  /** Overrides the `instance_url` handed out by the token endpoint (default: the simulator's own URL). */
  instanceUrl?: string;
  /** Where change events go (Standard Webhooks signed); can be changed at run time. */
  events?: OutboundTarget;
  /** Clock, for tests that need fixed timestamps. */
  now?: () => number;
  /** Port of the Pub/Sub API (gRPC over TLS; default 4011, or a free port when `start({port: 0})`). */
  pubSubPort?: number;
  /** Pub/Sub event retention (default 72 h) and keepalive interval (default 270 s). */
  pubSubRetentionMs?: number;
  pubSubKeepaliveMs?: number;
}

export interface TokenIssue {
  grantType: string;
  accessToken: string;
  refreshToken?: string;
  at: number;
}

/** A Change Data Capture event as the simulator delivers it (the `data` of a `salesforce.change` webhook). */
export interface ChangeEvent {
  schema: string;
  channel: string;
  payload: {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: 'CREATE' | 'UPDATE' | 'DELETE';
      changeOrigin: string;
      transactionKey: string;
      sequenceNumber: number;
      commitTimestamp: number;
      commitNumber: number;
      commitUser: string;
      changedFields: string[];
      nulledFields: string[];
      diffFields: string[];
    };
    [field: string]: unknown;
  };
  event: { replayId: number };
}

export interface SalesforceSimulator {
  readonly core: SimulatorCore;
  readonly options: Readonly<
    Required<
      Omit<
        SalesforceSimulatorOptions,
        'events' | 'instanceUrl' | 'now' | 'pubSubPort' | 'pubSubRetentionMs' | 'pubSubKeepaliveMs'
      >
    >
  >;
  /** The Pub/Sub API service (change events over gRPC), and where it listens once started. */
  readonly pubsub: PubSubService;
  readonly pubSub: { endpoint: string; caCertificate: string } | undefined;
  /** The URL once started. */
  readonly url: string | undefined;
  start(opts?: SimulatorListenOptions): Promise<RunningSimulator>;
  stop(): Promise<void>;
  /** Forgets records, query cursors, API usage, fault rules, the request log and event history (sessions survive). */
  reset(): void;
  /** Records of one type as the REST API renders them (deleted ones only with includeDeleted). */
  records(type: string, opts?: { includeDeleted?: boolean }): Record<string, unknown>[];
  record(type: string, id: string): Record<string, unknown> | undefined;
  /** Inserts records directly (no API call counted, no change events); returns their ids. */
  seed(type: string, records: Record<string, unknown> | Record<string, unknown>[]): string[];
  /** A change made "by a user in the UI": updates the record and emits an event without API changeOrigin. */
  uiUpdate(type: string, id: string, fields: Record<string, unknown>): void;
  uiDelete(type: string, id: string): void;
  /** Invalidates every access token now; with revokeRefreshTokens the refresh tokens die too. */
  expireSessions(opts?: { revokeRefreshTokens?: boolean }): number;
  revokeRefreshTokens(): void;
  tokensIssued(): TokenIssue[];
  apiUsage(): { used: number; limit: number; windowMs: number };
  setApiUsage(used: number, limit?: number): void;
  /** Changes the length of the rolling window usage is counted over. */
  setApiUsageWindow(windowMs: number): void;
  /** Moves the rolling window forward: calls older than the window no longer count. */
  advanceApiUsageWindow(ms: number): void;
  configureEvents(target: OutboundTarget | undefined): void;
  readonly events: OutboundEvents;
  /** Change events produced so far (whether or not a target was configured). */
  changeEvents(): ChangeEvent[];
  drainEvents(): Promise<void>;
}
