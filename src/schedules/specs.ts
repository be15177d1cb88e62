import type { Config } from '../config';
import type { SyncSpec } from '../workflows/batch-sync.messages';

/** "30s" / "15m" / "1h" / "500ms" -> milliseconds (the format config.ts validates). */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export interface ConfiguredSync {
  spec: SyncSpec;
  every: string;
  paused: boolean;
}

/** The configured syncs as the runs receive them: BATCH_SYNCS plus the SYNC_* settings they share. */
export function configuredSyncs(config: Config): ConfiguredSync[] {
  return config.BATCH_SYNCS.map((s) => ({
    every: s.every,
    paused: s.paused,
    spec: {
      name: s.name,
      direction: s.direction,
      object: s.object,
      pageSize: s.pageSize,
      bulkThreshold: s.bulkThreshold,
      lookbackSeconds: durationMs(s.lookback) / 1000,
      quotaReserve: config.SYNC_QUOTA_RESERVE,
      parkCheckSeconds: durationMs(config.SYNC_PARK_CHECK_INTERVAL) / 1000,
      maxHistoryEvents: config.SYNC_MAX_HISTORY_EVENTS,
      bulkPollMs: config.SYNC_BULK_POLL_MS,
    },
  }));
}
