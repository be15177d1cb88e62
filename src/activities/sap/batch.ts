import { heartbeat } from '../heartbeat';
import { ApplicationFailure } from '@temporalio/common';
import type { AccountRecord, RecordOutcome, SapCustomerFields } from '../../domain/batch-sync';
import { comparableFromSap, comparableFromSource, fieldDrift } from '../../domain/batch-sync';
import { accountToSapCustomer, toSapCustomerMatch } from '../../domain/customer';
import type { SapSalesArea } from '../../domain/customer';
import { ErrorType } from '../../domain/error-types';
import { createSapActivities } from './activities';
import type { SapClient, SapSession } from './client';
import { assertNoBapiError, classifySapError } from './errors';

/**
 * SAP activities of the scheduled batch sync. Writes: one customer per activity (BAPI + commit in one
 * session; SAP has no bulk customer BAPI), so the SAP task queue's rate limit paces them, with the
 * customer flow's check-before-create. Reads: the DEBMAS change pointers (CHANGE_POINTERS_READ in block
 * mode), flagged processed (CHANGE_POINTERS_STATUS_WRITE) only after the changes were written to
 * Salesforce. See docs/flows/batch-sync.md.
 */

export const CHANGE_POINTER_MESSAGE_TYPE = 'DEBMAS';

export interface SapDeps {
  client: SapClient;
  salesArea: SapSalesArea;
  /** The SAP user of the coordinator's own changes: pointers written by it are echoes. */
  technicalUser: string;
}

export interface AccountToSapResult {
  recordId: string;
  outcome: RecordOutcome;
  sapCustomerNumber?: string;
  /** The Account lacks this SAP customer number: the caller writes it back. */
  linkNeeded?: boolean;
  errorType?: string;
  reason?: string;
}

export interface PointerPosition {
  /** ISO instant of the pointer's CRETIME. */
  createdAt: string;
  pointer: string;
}

export interface CustomerChangePage {
  /** CPIDENTs read (to flag processed once written). */
  pointers: string[];
  last?: PointerPosition;
  customers: SapCustomerFields[];
  /** Customers whose only changes in this page were the coordinator's own. */
  echoes: string[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const rows = (table: unknown): Record<string, unknown>[] => {
  const item = table && typeof table === 'object' ? (table as { item?: unknown }).item : undefined;
  return Array.isArray(item)
    ? (item as Record<string, unknown>[])
    : item
      ? [item as Record<string, unknown>]
      : [];
};

/** CRETIME YYYYMMDDhhmmss -> ISO instant; and back, as CREATION_DATE / CREATION_TIME. */
export function pointerTimeToIso(cretime: string): string {
  const s = cretime.padStart(14, '0');
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}Z`;
}

function dateTimeParams(iso: string, which: 'LOW' | 'HIGH'): Record<string, string> {
  const d = new Date(iso).toISOString();
  return { [`CREATION_DATE_${which}`]: d.slice(0, 10), [`CREATION_TIME_${which}`]: d.slice(11, 19) };
}

/**
 * Heartbeats every two seconds while `work` runs, with what it is doing: a worker that dies is noticed
 * within the heartbeat timeout (not after the whole start-to-close timeout) and the page goes on.
 */
async function heartbeating<T>(details: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
  heartbeat(details);
  const timer = setInterval(() => heartbeat(details), 2_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The business rejections that quarantine a record instead of failing the run. */
const businessTypes = new Set<string>([ErrorType.SapBusinessError, ErrorType.InvalidInput]);

export function createSapBatchActivities({ client, salesArea, technicalUser }: SapDeps) {
  const base = createSapActivities({ client, salesArea });

  async function call(session: SapSession, operation: string, args: Record<string, unknown>) {
    try {
      return await session.call(operation, args);
    } catch (err) {
      throw classifySapError(err, operation);
    }
  }

  async function readCustomer(kunnr: string): Promise<SapCustomerFields | undefined> {
    try {
      const detail = (await base.getCustomer({ customerNumber: kunnr })) as {
        address?: Record<string, unknown>;
        general?: Record<string, unknown>;
      };
      const a = detail.address ?? {};
      return {
        KUNNR: kunnr,
        NAME1: str(a.NAME),
        STRAS: str(a.STREET),
        ORT01: str(a.CITY),
        PSTLZ: str(a.POSTL_CODE),
        LAND1: str(a.COUNTRY),
        TELF1: str(a.TELEPHONE),
        LOEVM: str(detail.general?.DEL_FLAG_G),
      };
    } catch (err) {
      // F2 160: the customer does not exist.
      if (err instanceof ApplicationFailure && err.type === ErrorType.SapBusinessError) return undefined;
      throw err;
    }
  }

  /** Sets the central deletion flag (and an order block), BAPI-style: function + commit in one session. */
  async function flagForDeletion(kunnr: string): Promise<void> {
    await client.session(async (s) => {
      const res = await call(s, 'Z_CUSTOMER_SET_BLOCKS', {
        CUSTOMERNO: kunnr,
        DELETION_FLAG: 'X',
        ORDER_BLOCK: '01',
      });
      assertNoBapiError('Z_CUSTOMER_SET_BLOCKS', res.RETURN);
      const commit = await call(s, 'BAPI_TRANSACTION_COMMIT', { WAIT: 'X' });
      assertNoBapiError('BAPI_TRANSACTION_COMMIT', commit.RETURN);
    });
  }

  async function changeCustomer(kunnr: string, changes: Record<string, string>): Promise<void> {
    await client.session(async (s) => {
      const res = await call(s, 'BAPI_CUSTOMER_CHANGEFROMDATA1', {
        CUSTOMERNO: kunnr,
        PI_COMPANYDATA: changes,
        PI_COMPANYDATAX: Object.fromEntries(Object.keys(changes).map((k) => [k, 'X'])),
        PI_SALESORG: salesArea.salesOrg,
        PI_DISTR_CHAN: salesArea.distributionChannel,
        PI_DIVISION: salesArea.division,
      });
      assertNoBapiError('BAPI_CUSTOMER_CHANGEFROMDATA1', res.RETURN);
      const commit = await call(s, 'BAPI_TRANSACTION_COMMIT', { WAIT: 'X' });
      assertNoBapiError('BAPI_TRANSACTION_COMMIT', commit.RETURN);
    });
  }

  async function accountToSap(account: AccountRecord): Promise<AccountToSapResult> {
    const recordId = account.Id;
    const linked = account.SAP_Customer_Number__c ?? undefined;
    if (account.IsDeleted) {
      if (!linked) return { recordId, outcome: 'skipped' };
      const current = await readCustomer(linked);
      if (!current || current.LOEVM === 'X')
        return { recordId, outcome: 'unchanged', sapCustomerNumber: linked };
      await flagForDeletion(linked);
      return { recordId, outcome: 'deleted', sapCustomerNumber: linked };
    }
    const mapped = accountToSapCustomer(account as unknown as Record<string, unknown>);
    if (!mapped.ok) {
      return {
        recordId,
        outcome: 'quarantined',
        errorType: ErrorType.InvalidInput,
        reason: `the Account cannot become an SAP customer: ${mapped.problems.join('; ')}`,
      };
    }
    const wanted = comparableFromSource(mapped.source);
    if (linked) {
      const current = await readCustomer(linked);
      if (!current) {
        return {
          recordId,
          outcome: 'quarantined',
          errorType: ErrorType.SapBusinessError,
          reason: `the linked SAP customer ${linked} does not exist`,
        };
      }
      const drift = fieldDrift(comparableFromSap(current), wanted);
      if (drift.length === 0) return { recordId, outcome: 'unchanged', sapCustomerNumber: linked };
      const bapiField: Record<string, [string, string]> = {
        name: ['NAME', wanted.name],
        street: ['STREET', wanted.street],
        city: ['CITY', wanted.city],
        postalCode: ['POSTL_COD1', wanted.postalCode],
        country: ['COUNTRY', wanted.country],
        phone: ['TEL1_NUMBR', wanted.phone],
      };
      await changeCustomer(linked, Object.fromEntries(drift.map((f) => bapiField[f]!)));
      return { recordId, outcome: 'updated', sapCustomerNumber: linked };
    }
    // Not linked yet: check before create (BAPIs are not idempotent), then create with BAPI + commit.
    const match = toSapCustomerMatch(mapped.source);
    const existing = await base.findCustomer({ match });
    if (existing.customerNumber) {
      return { recordId, outcome: 'unchanged', sapCustomerNumber: existing.customerNumber, linkNeeded: true };
    }
    const created = await base.createCustomer({ customer: mapped.source, match });
    return {
      recordId,
      outcome: created.recoveredFromEarlierAttempt ? 'unchanged' : 'created',
      sapCustomerNumber: created.customerNumber,
      linkNeeded: true,
    };
  }

  async function readPointers(
    session: SapSession,
    args: Record<string, unknown>,
  ): Promise<Record<string, unknown>[]> {
    const res = await call(session, 'CHANGE_POINTERS_READ', {
      MESSAGE_TYPE: CHANGE_POINTER_MESSAGE_TYPE,
      ...args,
    });
    return rows(res.CHANGE_POINTERS);
  }

  async function customersOf(pointers: Record<string, unknown>[]): Promise<CustomerChangePage> {
    const byCustomer = new Map<string, string[]>();
    for (const p of pointers) {
      const kunnr = str(p.CDOBJID);
      const users = byCustomer.get(kunnr) ?? [];
      users.push(str(p.USERNAME).toUpperCase());
      byCustomer.set(kunnr, users);
    }
    const customers: SapCustomerFields[] = [];
    const echoes: string[] = [];
    for (const [kunnr, users] of byCustomer) {
      if (users.every((u) => u === technicalUser.toUpperCase())) {
        echoes.push(kunnr);
        continue;
      }
      const c = await readCustomer(kunnr);
      if (c) customers.push(c);
    }
    const lastRow = pointers[pointers.length - 1];
    return {
      pointers: pointers.map((p) => str(p.CPIDENT)),
      ...(lastRow
        ? { last: { createdAt: pointerTimeToIso(str(lastRow.CRETIME)), pointer: str(lastRow.CPIDENT) } }
        : {}),
      customers,
      echoes,
    };
  }

  return {
    /**
     * Salesforce -> SAP for one Account: create (check-before-create), change the fields that differ,
     * or flag the customer for deletion. A business rejection comes back as `quarantined` with SAP's
     * message; outages throw (retried by Temporal).
     */
    async syncAccountToSap(input: { account: AccountRecord }): Promise<AccountToSapResult> {
      try {
        return await heartbeating({ account: input.account.Id }, () => accountToSap(input.account));
      } catch (err) {
        if (err instanceof ApplicationFailure && businessTypes.has(err.type ?? '')) {
          return {
            recordId: input.account.Id,
            outcome: 'quarantined',
            errorType: err.type!,
            reason: err.message,
          };
        }
        throw err;
      }
    },

    /**
     * The next page of DEBMAS changes not yet processed: block mode (one block of `pageSize` pointers)
     * in one session, then each changed customer's current data (GETDETAIL2). Pointers written only by
     * the coordinator's own SAP user are echoes and carry no customer.
     */
    async readCustomerChanges(input: { pageSize: number }): Promise<CustomerChangePage> {
      return heartbeating({ reading: 'DEBMAS change pointers' }, async () => {
        const pointers = await client.session(async (s) => {
          await call(s, 'CHANGE_POINTERS_READ_MODE_SET', {
            MESSAGE_TYPE: CHANGE_POINTER_MESSAGE_TYPE,
            BLOCK_SIZE: input.pageSize,
          });
          return readPointers(s, { READ_NOT_PROCESSED_POINTERS: 'X' });
        });
        return customersOf(pointers);
      });
    },

    /**
     * A backfill page: pointers created in [from, to] (processed or not) after `after`, never flagged.
     * Reads blocks in one session until it has passed `after`.
     */
    async readCustomerChangesInRange(input: {
      from: string;
      to: string;
      after?: string;
      pageSize: number;
    }): Promise<CustomerChangePage> {
      const pointers = await client.session(async (s) => {
        await call(s, 'CHANGE_POINTERS_READ_MODE_SET', {
          MESSAGE_TYPE: CHANGE_POINTER_MESSAGE_TYPE,
          BLOCK_SIZE: input.pageSize,
        });
        const after = input.after ? BigInt(input.after) : -1n;
        for (;;) {
          const block = await readPointers(s, {
            ...dateTimeParams(input.from, 'LOW'),
            ...dateTimeParams(input.to, 'HIGH'),
          });
          if (block.length === 0) return [];
          const fresh = block.filter((p) => BigInt(str(p.CPIDENT)) > after);
          if (fresh.length > 0) return fresh;
        }
      });
      return customersOf(pointers);
    },

    /** SAP customers by number (redrive), as change-page customers. */
    async readCustomers(input: { customerNumbers: string[] }): Promise<SapCustomerFields[]> {
      const out: SapCustomerFields[] = [];
      for (const kunnr of input.customerNumbers) {
        const c = await readCustomer(kunnr);
        if (c) out.push(c);
      }
      return out;
    },

    /** Flags pointers processed, after their changes are written (a direct update, no commit needed). */
    async markChangePointersProcessed(input: { pointers: string[] }): Promise<void> {
      if (input.pointers.length === 0) return;
      await client.session(async (s) => {
        await call(s, 'CHANGE_POINTERS_STATUS_WRITE', {
          MESSAGE_TYPE: CHANGE_POINTER_MESSAGE_TYPE,
          CHANGE_POINTERS_IDENTS: { item: input.pointers.map((CPIDENT) => ({ CPIDENT })) },
        });
      });
    },
  };
}

export type SapBatchActivities = ReturnType<typeof createSapBatchActivities>;
