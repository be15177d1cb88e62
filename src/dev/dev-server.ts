import type { SearchAttributeType } from '@temporalio/common';

/**
 * The Temporal dev server's command line as `npm start` runs it (the benchmarks run the same one, so
 * they measure the store a developer really gets).
 *
 * The store is a SQLite file in write-ahead-log mode with `synchronous=normal`: each commit appends
 * to the log and is not fsync'ed, the log is synced at checkpoints. A crash of the server process loses
 * nothing (the log is in the OS's page cache); a power cut or an OS crash can lose the transactions
 * committed since the last checkpoint (workflow progress of the last moments: a run may restart a
 * step it had already finished, which its activities are written to tolerate), but never corrupts
 * the file. SQLite's defaults (rollback journal, `synchronous=full`) sync every commit and cost the
 * server about a third more CPU per flow (docs/benchmarks.md). A production cluster does not use this
 * server (docs/deployment.md).
 *
 * Eager activity dispatch is switched on: an activity scheduled on the workflow's own task queue is
 * handed to the worker in the answer to the workflow task that scheduled it, without a round trip
 * through matching.
 */
export interface DevServerOptions {
  host: string;
  port: number;
  /** SQLite file; unset runs in memory. */
  dbFile?: string;
  /** Web UI port; unset runs headless. */
  uiPort?: number;
  searchAttributes: readonly { name: string; type: SearchAttributeType }[];
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
}

export const devServerSqlitePragmas = ['journal_mode=wal', 'synchronous=normal'] as const;

export const devServerDynamicConfig = ['system.enableActivityEagerExecution=true'] as const;

export function devServerArgs(o: DevServerOptions): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    o.host,
    '--port',
    String(o.port),
    ...(o.dbFile ? ['--db-filename', o.dbFile] : []),
    ...devServerTuningArgs(o.dbFile !== undefined),
    '--log-level',
    o.logLevel ?? 'warn',
    ...(o.uiPort === undefined ? ['--headless'] : ['--ui-port', String(o.uiPort)]),
    ...(o.uiPort !== undefined && o.uiCodecEndpoint ? ['--ui-codec-endpoint', o.uiCodecEndpoint] : []),
    ...o.searchAttributes.flatMap((a) => ['--search-attribute', `${a.name}=Keyword`]),
  ];
}

/** The pragmas (for a file store) and dynamic config above, as extra arguments of `start-dev`. */
export function devServerTuningArgs(fileStore: boolean): string[] {
  return [
    ...(fileStore ? devServerSqlitePragmas.flatMap((p) => ['--sqlite-pragma', p]) : []),
    ...devServerDynamicConfig.flatMap((v) => ['--dynamic-config-value', v]),
  ];
}
