import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertActivities } from '../activities/alerts/activities';
import type { SyncStateActivities } from '../activities/ops/sync-state';
import type { AccountPage, ApiUsage, SalesforceBatchActivities } from '../activities/salesforce/batch';
import type { SapBatchActivities } from '../activities/sap/batch';
import { addCounts, emptyCounts } from '../domain/batch-sync';
import type {
  AccountRecord,
  QuarantinedRecord,
  RecordOutcome,
  SyncCounts,
  SyncCursor,
} from '../domain/batch-sync';
import { ErrorType } from '../domain/error-types';
import { getSyncProgressQuery } from './batch-sync.messages';
import type { BatchSyncCarry, BatchSyncInput, BatchSyncResult, SyncProgress } from './batch-sync.messages';
import { failureSummary } from '../lib/failures';
import { setQuotaUsed, setSyncLag } from '../observability/workflow-metrics';
import {
  alertActivityOptions,
  batchSalesforceOptions,
  batchSapOptions,
  syncActivityOptions,
} from './shared/policies';
import { BusinessKey, IntegrationFlow } from './shared/search-attributes';
import { activityQueueFor } from './shared/task-queues';

interface RecordResult {
  recordId: string;
  outcome: RecordOutcome;
  errorType?: string;
  reason?: string;
}

/**
 * One run of a scheduled sync (started by its Temporal Schedule, by "trigger now", by a backfill or a
 * redrive). It reads the source page by page from a position, writes every record of the page to the
 * target (or quarantines it with the reason), and only then commits the page: cursor and quarantine
 * entries together, through an update of the sync's `syncState` workflow. A worker killed mid-page
 * therefore re-runs that page (writes are idempotent: upserts, check-before-create, compare before
 * change), never skips it. A live run starts `lookbackSeconds` behind the cursor and stops at its own
 * start time; a backfill reads its range and never touches the cursor. When Salesforce's API usage
 * passes the reserve, or Salesforce answers REQUEST_LIMIT_EXCEEDED, the run parks on a durable timer
 * until usage has fallen. It continues as new before its history grows past `maxHistoryEvents`.
 * See docs/flows/batch-sync.md.
 */
export async function batchSync(input: BatchSyncInput): Promise<BatchSyncResult> {
  const { spec } = input;
  const mode = input.mode ?? 'live';
  const info = workflowInfo();
  const queue = (system: Parameters<typeof activityQueueFor>[1]) => activityQueueFor(info.taskQueue, system);
  const sf = proxyActivities<SalesforceBatchActivities>({
    ...batchSalesforceOptions,
    taskQueue: queue('salesforce'),
  });
  const sap = proxyActivities<SapBatchActivities>({ ...batchSapOptions, taskQueue: queue('sap') });
  const state = proxyActivities<SyncStateActivities>({ ...syncActivityOptions, taskQueue: queue('ops') });
  const alerts = proxyActivities<AlertActivities>({ ...alertActivityOptions, taskQueue: queue('ops') });

  const nowIso = () => new Date().toISOString();
  const carry: BatchSyncCarry = input.carry ?? {
    startedAt: nowIso(),
    counts: emptyCounts(),
    pages: 0,
    continuedAsNew: 0,
  };
  const progress: SyncProgress = {
    name: spec.name,
    mode,
    phase: 'starting',
    startedAt: carry.startedAt,
    counts: carry.counts,
    pages: carry.pages,
    expected: carry.expected,
    recordsPerSecond: 0,
    continuedAsNew: carry.continuedAsNew,
  };
  setHandler(getSyncProgressQuery, () => {
    const elapsed = Math.max(1, (Date.now() - Date.parse(carry.startedAt)) / 1000);
    const rate = carry.counts.read / elapsed;
    const left = carry.expected !== undefined ? Math.max(0, carry.expected - carry.counts.read) : undefined;
    return {
      ...progress,
      position: carry.position,
      counts: carry.counts,
      pages: carry.pages,
      expected: carry.expected,
      recordsPerSecond: Math.round(rate * 100) / 100,
      ...(left !== undefined && rate > 0 && progress.phase !== 'done'
        ? { etaSeconds: Math.round(left / rate) }
        : {}),
    };
  });
  upsertSearchAttributes([
    { key: IntegrationFlow, value: 'batch-sync' },
    { key: BusinessKey, value: spec.name },
  ]);

  // ---------------------------------------------------------------- lag and quota metrics

  /**
   * Live runs: every source change before this instant is synced. It starts at the later of the stored
   * cursor's change time and the start of the last live run (which read everything up to its start),
   * moves with each committed page, and is this run's own read bound at its end. Metrics are not
   * workflow commands (and are dropped on replay): histories are unchanged.
   */
  let syncedUpTo: string | undefined;
  const cursorTime = (c: SyncCursor | undefined) =>
    c?.system === 'salesforce' ? c.systemModstamp : c?.system === 'sap' ? c.createdAt : undefined;
  const later = (a: string | undefined, b: string | undefined) =>
    a === undefined || (b !== undefined && Date.parse(b) > Date.parse(a)) ? b : a;
  function reportLag(): void {
    if (mode === 'live' && syncedUpTo !== undefined) {
      setSyncLag(spec.name, spec.object, (Date.now() - Date.parse(syncedUpTo)) / 1000);
    }
  }
  const reportUsage = (u: ApiUsage | undefined) => u && setQuotaUsed('salesforce', u.used, u.limit);

  // ---------------------------------------------------------------- quota parking

  const overReserve = (u: ApiUsage | undefined) => u !== undefined && u.used >= u.limit * spec.quotaReserve;
  const isQuotaFailure = (err: unknown) =>
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === ErrorType.RateLimited;

  async function park(reason: string): Promise<void> {
    const previous = progress.phase;
    progress.phase = 'parked';
    progress.parked = { reason, since: nowIso() };
    for (;;) {
      await sleep(spec.parkCheckSeconds * 1000);
      reportLag();
      try {
        const usage = await sf.apiUsage();
        reportUsage(usage);
        if (!overReserve(usage)) break;
      } catch (err) {
        if (!isQuotaFailure(err)) throw err;
      }
    }
    progress.parked = undefined;
    progress.phase = previous;
  }

  /** A Salesforce step under the quota rule: park (durably) past the reserve or on REQUEST_LIMIT_EXCEEDED. */
  async function salesforce<T extends { apiUsage?: ApiUsage }>(step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const result = await step();
        reportUsage(result.apiUsage);
        if (overReserve(result.apiUsage)) {
          const u = result.apiUsage!;
          await park(
            `Salesforce API usage ${u.used}/${u.limit} is past the batch reserve (${spec.quotaReserve})`,
          );
        }
        return result;
      } catch (err) {
        if (!isQuotaFailure(err)) throw err;
        await park('Salesforce answered REQUEST_LIMIT_EXCEEDED');
      }
    }
  }

  // ---------------------------------------------------------------- start position

  const direction = spec.direction;
  if (!input.carry) {
    const loaded = await state.loadSyncState({ name: spec.name });
    if (mode === 'live') {
      syncedUpTo = later(cursorTime(loaded.cursor), loaded.runs.find((r) => r.mode === 'live')?.startedAt);
      carry.until = nowIso();
      const cursor = loaded.cursor;
      if (cursor?.system === 'salesforce') {
        carry.position = {
          system: 'salesforce',
          systemModstamp: new Date(
            Date.parse(cursor.systemModstamp) - spec.lookbackSeconds * 1000,
          ).toISOString(),
          id: '',
        };
      }
    } else if (mode === 'redrive') {
      const wanted = input.redrive?.recordIds ? new Set(input.redrive.recordIds) : undefined;
      carry.redriveQueue = loaded.quarantine
        .filter((q) => q.direction === direction && (!wanted || wanted.has(q.recordId)))
        .map((q) => q.recordId);
      carry.expected = carry.redriveQueue.length;
    }
    if (direction === 'salesforce-to-sap' && mode !== 'redrive') {
      const window = readWindow();
      const { count } = await salesforce(() => sf.countAccountChanges(window));
      carry.expected = count;
      if (count > spec.bulkThreshold) {
        const { jobId } = await salesforce(() => sf.startBulkAccountQuery(window));
        carry.bulk = { jobId };
        await salesforce(() => sf.awaitBulkQuery({ jobId, pollMs: spec.bulkPollMs }));
      }
    }
  }
  // A continued run resumes from its committed position.
  if (input.carry) syncedUpTo = cursorTime(carry.position);
  progress.expected = carry.expected;
  progress.readVia = direction === 'sap-to-salesforce' ? 'change-pointers' : carry.bulk ? 'bulk' : 'query';

  function readWindow() {
    const pos = carry.position?.system === 'salesforce' ? carry.position : undefined;
    return {
      ...(pos ? { after: { systemModstamp: pos.systemModstamp, id: pos.id } } : {}),
      ...(mode === 'backfill' && input.backfill
        ? { from: input.backfill.from, until: input.backfill.to }
        : carry.until
          ? { until: carry.until }
          : {}),
    };
  }

  // ---------------------------------------------------------------- pages

  const quarantineEntry = (r: RecordResult): Omit<QuarantinedRecord, 'firstSeenAt' | 'attempts'> => ({
    recordId: r.recordId,
    direction,
    errorType: r.errorType ?? 'Error',
    reason: r.reason ?? 'rejected',
    lastSeenAt: nowIso(),
    workflowId: info.workflowId,
  });

  /** Salesforce -> SAP: each Account through one SAP activity, then the new links back in collections. */
  async function writeAccounts(
    records: (AccountRecord & { ownChange?: boolean })[],
  ): Promise<RecordResult[]> {
    const results = await Promise.all(
      records.map(
        async (account): Promise<RecordResult & { sapCustomerNumber?: string; linkNeeded?: boolean }> => {
          // The coordinator's own write-back (SAP number) comes back as a change: nothing to do.
          if (mode === 'live' && account.ownChange && account.SAP_Customer_Number__c && !account.IsDeleted) {
            return { recordId: account.Id, outcome: 'skipped' };
          }
          try {
            return await sap.syncAccountToSap({ account });
          } catch (err) {
            const f = failureSummary(err);
            return { recordId: account.Id, outcome: 'quarantined', errorType: f.type, reason: f.message };
          }
        },
      ),
    );
    const links = results
      .filter((r) => r.linkNeeded && r.sapCustomerNumber)
      .map((r) => ({ accountId: r.recordId, sapCustomerNumber: r.sapCustomerNumber! }));
    if (links.length > 0) {
      const written = await salesforce(() => sf.writeSapCustomerNumbers({ links }));
      const failed = new Map(
        written.results.filter((w) => w.outcome === 'quarantined').map((w) => [w.recordId, w]),
      );
      return results.map((r) => {
        const f = failed.get(r.recordId);
        return f
          ? { ...f, reason: `SAP customer ${r.sapCustomerNumber!} was not linked: ${f.reason ?? ''}` }
          : r;
      });
    }
    return results;
  }

  async function commit(
    results: RecordResult[],
    cursor: SyncCursor | undefined,
    extra: Partial<SyncCounts> = {},
  ) {
    progress.phase = 'committing';
    const counts: Partial<SyncCounts> = { ...extra, read: results.length + (extra.read ?? 0) };
    for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    await state.commitSyncPage({
      name: spec.name,
      workflowId: info.workflowId,
      mode,
      ...(mode === 'live' && cursor ? { cursor } : {}),
      quarantined: results.filter((r) => r.outcome === 'quarantined').map(quarantineEntry),
      resolved: results.filter((r) => r.outcome !== 'quarantined').map((r) => r.recordId),
    });
    carry.counts = addCounts(carry.counts, counts);
    carry.pages += 1;
    if (cursor) carry.position = cursor;
    syncedUpTo = later(syncedUpTo, cursorTime(cursor));
    reportLag();
  }

  const lastAccountCursor = (page: AccountPage): SyncCursor | undefined => {
    const last = page.records[page.records.length - 1];
    return last ? { system: 'salesforce', systemModstamp: last.SystemModstamp, id: last.Id } : undefined;
  };

  /** One page; false when there is nothing left. */
  async function nextPage(): Promise<boolean> {
    progress.phase = 'reading';
    if (mode === 'redrive') {
      const ids = (carry.redriveQueue ?? []).slice(0, spec.pageSize);
      if (ids.length === 0) return false;
      carry.redriveQueue = (carry.redriveQueue ?? []).slice(ids.length);
      let results: RecordResult[];
      if (direction === 'salesforce-to-sap') {
        const page = await salesforce(() => sf.readAccountsById({ ids }));
        progress.phase = 'writing';
        results = await writeAccounts(page.records);
        const found = new Set(page.records.map((r) => r.Id));
        // Records that no longer exist anywhere have nothing left to sync.
        results.push(
          ...ids.filter((id) => !found.has(id)).map((id) => ({ recordId: id, outcome: 'skipped' as const })),
        );
      } else {
        const customers = await sap.readCustomers({ customerNumbers: ids });
        progress.phase = 'writing';
        const applied = await salesforce(() => sf.applySapCustomers({ customers }));
        const found = new Set(customers.map((c) => c.KUNNR));
        results = [
          ...applied.results,
          ...ids.filter((id) => !found.has(id)).map((id) => ({ recordId: id, outcome: 'skipped' as const })),
        ];
      }
      await commit(results, undefined);
      return true;
    }

    if (direction === 'salesforce-to-sap') {
      const read = await readAccounts(readAtFromCarry());
      if (!read) return false;
      progress.phase = 'writing';
      await commitAccounts({
        results: writeAccounts(read.page.records),
        cursor: lastAccountCursor(read.page),
        after: read.after,
      });
      // A bulk run asks once more and finds the locator done (runs recorded this way replay unchanged).
      return carry.bulk ? true : !read.after.end;
    }

    // SAP -> Salesforce: DEBMAS change pointers.
    const page =
      mode === 'backfill' && input.backfill
        ? await sap.readCustomerChangesInRange({
            from: input.backfill.from,
            to: input.backfill.to,
            pageSize: spec.pageSize,
            ...(carry.position?.system === 'sap' ? { after: carry.position.pointer } : {}),
          })
        : await sap.readCustomerChanges({ pageSize: spec.pageSize });
    if (page.pointers.length === 0) return false;
    progress.phase = 'writing';
    const applied =
      page.customers.length > 0
        ? (await salesforce(() => sf.applySapCustomers({ customers: page.customers }))).results
        : [];
    const cursor: SyncCursor | undefined = page.last
      ? { system: 'sap', createdAt: page.last.createdAt, pointer: page.last.pointer }
      : undefined;
    await commit(applied, cursor, { read: page.echoes.length, skipped: page.echoes.length });
    // Only now, with every change written or quarantined, SAP may forget the pointers.
    if (mode === 'live') await sap.markChangePointersProcessed({ pointers: page.pointers });
    return true;
  }

  // ---------------------------------------------------------------- overlapped pages (Salesforce -> SAP)

  /** Where the next Salesforce read starts: a bulk result locator, a query's next-records URL, or the end. */
  type ReadAt = { locator?: string; nextRecordsUrl?: string; end?: true };
  interface PageInFlight {
    results: Promise<RecordResult[]>;
    cursor: SyncCursor | undefined;
    after: ReadAt;
  }

  /** The page at `at`, or undefined when the source has no more records. */
  async function readAccounts(at: ReadAt): Promise<{ page: AccountPage; after: ReadAt } | undefined> {
    if (at.end) return undefined;
    progress.phase = 'reading';
    if (carry.bulk) {
      const { jobId } = carry.bulk;
      const page = await salesforce(() =>
        sf.readBulkPage({ jobId, pageSize: spec.pageSize, ...(at.locator ? { locator: at.locator } : {}) }),
      );
      if (page.records.length === 0) return undefined;
      return { page, after: page.nextLocator ? { locator: page.nextLocator } : { end: true } };
    }
    const page = await salesforce(() =>
      sf.readAccountPage({
        ...readWindow(),
        pageSize: spec.pageSize,
        ...(at.nextRecordsUrl ? { nextRecordsUrl: at.nextRecordsUrl } : {}),
      }),
    );
    if (page.records.length === 0) return undefined;
    return { page, after: page.nextRecordsUrl ? { nextRecordsUrl: page.nextRecordsUrl } : { end: true } };
  }

  /** The read position after the last committed page. */
  function readAtFromCarry(): ReadAt {
    if (carry.bulk) {
      const { locator } = carry.bulk;
      return locator === 'done' ? { end: true } : locator ? { locator } : {};
    }
    return carry.nextRecordsUrl ? { nextRecordsUrl: carry.nextRecordsUrl } : {};
  }

  async function commitAccounts(p: PageInFlight): Promise<void> {
    const results = await p.results;
    await commit(results, p.cursor);
    if (carry.bulk) carry.bulk = { jobId: carry.bulk.jobId, locator: p.after.locator ?? 'done' };
    else carry.nextRecordsUrl = p.after.nextRecordsUrl;
  }

  /**
   * Salesforce -> SAP with the next page read and its SAP writes scheduled while the current page's last
   * records are still being written, so the SAP queue, whose rate limit bounds the run, never runs dry
   * between pages. Pages still commit one after the other in read order (the cursor never passes a
   * record that is not written or quarantined); at most two pages are in flight, and both are committed
   * before the run continues as new.
   */
  async function overlappedPages(): Promise<void> {
    let at = readAtFromCarry();
    let inFlight: PageInFlight | undefined;
    for (;;) {
      const now = workflowInfo();
      // After the last page there is nothing left to read: the run commits it and finishes. Continuing as
      // new instead would start the next run on a fresh query after the cursor, which returns the run's
      // own write-backs (read again, skipped as echoes). Runs recorded before keep their last
      // continue-as-new on replay.
      const continueNow =
        (now.continueAsNewSuggested || now.historyLength > spec.maxHistoryEvents) &&
        !(at.end && patched('batch-sync-finish-after-last-page'));
      const read = continueNow ? undefined : await readAccounts(at);
      let next: PageInFlight | undefined;
      if (read) {
        progress.phase = 'writing';
        next = {
          results: writeAccounts(read.page.records),
          cursor: lastAccountCursor(read.page),
          after: read.after,
        };
        // Awaited when its turn to commit comes; marked handled so a failure meanwhile is not reported twice.
        next.results.catch(() => undefined);
        at = read.after;
      }
      if (inFlight) await commitAccounts(inFlight);
      inFlight = next;
      if (!next) {
        if (continueNow) {
          await continueAsNew<typeof batchSync>({
            ...input,
            carry: { ...carry, continuedAsNew: carry.continuedAsNew + 1 },
          });
        }
        return;
      }
    }
  }

  // Runs recorded before pages overlapped keep their one-page-at-a-time order on replay.
  const overlap =
    direction === 'salesforce-to-sap' && mode !== 'redrive' && patched('batch-sync-overlapped-pages');
  if (overlap) {
    await overlappedPages();
  } else {
    for (;;) {
      const now = workflowInfo();
      if (now.continueAsNewSuggested || now.historyLength > spec.maxHistoryEvents) {
        await continueAsNew<typeof batchSync>({
          ...input,
          carry: { ...carry, continuedAsNew: carry.continuedAsNew + 1 },
        });
      }
      if (!(await nextPage())) break;
    }
  }
  if (carry.bulk) {
    // Housekeeping only: Salesforce deletes finished jobs after seven days anyway.
    await sf.deleteBulkQuery({ jobId: carry.bulk.jobId }).catch(() => undefined);
  }

  progress.phase = 'done';
  // Everything the source changed before this run's read bound is synced now.
  syncedUpTo = later(syncedUpTo, carry.until ?? carry.startedAt);
  reportLag();
  const loaded = await state.loadSyncState({ name: spec.name });
  const result: BatchSyncResult = {
    name: spec.name,
    mode,
    startedAt: carry.startedAt,
    finishedAt: nowIso(),
    counts: carry.counts,
    ...(loaded.cursor ? { cursor: loaded.cursor } : {}),
    quarantinedTotal: loaded.quarantine.length,
  };
  if (carry.counts.quarantined > 0) {
    // One alert per run, with the count: never one per record.
    await alerts.sendAlert({
      severity: 'warning',
      title: `Sync ${spec.name}: ${carry.counts.quarantined} record(s) quarantined`,
      text: `The ${mode} run quarantined ${carry.counts.quarantined} record(s) the target rejected (${loaded.quarantine.length} in quarantine now). List them with GET /v1/syncs/${spec.name}/quarantine; redrive after fixing the data.`,
      workflowId: info.workflowId,
      runId: info.runId,
      failureType: 'Quarantined',
    });
  }
  await state.recordSyncRun({ name: spec.name, summary: { ...result, workflowId: info.workflowId } });
  return result;
}
