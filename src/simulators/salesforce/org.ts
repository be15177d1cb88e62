import type { FastifyRequest } from 'fastify';
import type { RunningSimulator } from '../common/server';
import { createSimulatorApp } from '../common/server';
import { OutboundEvents } from '../common/outbound';
import { ApiUsageWindow, createBulkQueryJobs } from './bulk';
import { IdGenerator, to18 } from './ids';
import { RecordStore } from './store';
import type { ChangeEvent, SalesforceSimulatorOptions, TokenIssue } from './types';
import { SALESFORCE_FAULT_KINDS } from './types';

export interface Session {
  userId: string;
  expiresAt: number;
}

export interface Cursor {
  rows: Record<string, unknown>[];
  batchSize: number;
  totalSize: number;
}

/** The state of one simulated org, shared by the simulator's sections (OAuth, REST, change events, admin). */
export type SalesforceOrg = ReturnType<typeof createOrg>;

export function createOrg(input: SalesforceSimulatorOptions) {
  const options = {
    clientId: input.clientId ?? 'dev-client',
    clientSecret: input.clientSecret ?? 'dev-secret',
    username: input.username ?? 'integration@example.com',
    password: input.password ?? 'dev-password',
    orgId: to18(input.orgId ?? '00DDn0000001aBc'),
    userId: to18(input.userId ?? '005Dn0000002XyZ'),
    uiUserId: to18(input.uiUserId ?? '005Dn0000003UiU'),
    sessionTtlMs: input.sessionTtlMs ?? 2 * 60 * 60 * 1000,
    dailyApiLimit: input.dailyApiLimit ?? 15000,
    queryBatchSize: input.queryBatchSize ?? 2000,
    apiUsageWindowMs: input.apiUsageWindowMs ?? 24 * 60 * 60 * 1000,
    bulkQueryProcessingMs: input.bulkQueryProcessingMs ?? 50,
    bulkQueryMaxRecords: input.bulkQueryMaxRecords ?? 50000,
  };
  const now = input.now ?? (() => Date.now());
  const ids = new IdGenerator();
  const store = new RecordStore(ids);
  const bulk = createBulkQueryJobs({
    store,
    ids,
    now,
    processingMs: options.bulkQueryProcessingMs,
    defaultMaxRecords: options.bulkQueryMaxRecords,
  });
  const org = {
    options,
    now,
    core: createSimulatorApp('salesforce', SALESFORCE_FAULT_KINDS),
    ids,
    store,
    events: new OutboundEvents(input.events),
    sessions: new Map<string, Session>(),
    refreshTokens: new Map<string, { userId: string; revoked: boolean }>(),
    issued: [] as TokenIssue[],
    cursors: new Map<string, Cursor>(),
    changeLog: [] as ChangeEvent[],
    usage: new ApiUsageWindow(now, options.dailyApiLimit, options.apiUsageWindowMs),
    bulk,
    replayId: 0,
    commitNumber: 10716283339728,
    running: undefined as RunningSimulator | undefined,
    baseUrl: (req?: FastifyRequest) =>
      input.instanceUrl ?? org.running?.url ?? `http://${req?.headers.host ?? '127.0.0.1:4010'}`,
  };
  return org;
}
