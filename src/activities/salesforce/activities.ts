import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SalesforceAccountFields } from '../../domain/customer';
import { ErrorType } from '../../domain/error-types';
import type { SalesforceClient } from './client';
import { soqlString } from './client';
import { classifySalesforceError } from './errors';

export interface SalesforceDeps {
  client: SalesforceClient;
}

export interface AccountRef {
  id: string;
  sapCustomerNumber?: string;
}

/**
 * A failed save result as the error jsforce would have thrown: Salesforce's own code (collections put it
 * in `statusCode`, single records in `errorCode`), so the classification sees UNABLE_TO_LOCK_ROW as the
 * transient error it is instead of a generic rejection.
 */
export function saveError(errors: unknown): Error {
  const list = (Array.isArray(errors) ? errors : [errors]) as {
    statusCode?: string;
    errorCode?: string;
    message?: string;
    fields?: string[];
  }[];
  const first = list[0] ?? {};
  return Object.assign(new Error(first.message ?? JSON.stringify(errors)), {
    errorCode: first.statusCode ?? first.errorCode ?? 'SAVE_FAILED',
    data: { fields: first.fields ?? [] },
  });
}

/** The external-id field every record the coordinator writes is keyed by. */
export const integrationIdField = 'Integration_Id__c';

/**
 * Salesforce activities. Each is idempotent, so Temporal may retry it freely: writes are upserts by
 * external id or updates by record id, and a delete of a record that is already gone succeeds.
 */
export function createSalesforceActivities({ client }: SalesforceDeps) {
  async function run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifySalesforceError(err, action);
    }
  }

  async function findAccountByReference(input: { reference: string }): Promise<AccountRef | undefined> {
    return run('account lookup', async () => {
      const conn = await client.ready();
      const res = await conn.query<{ Id: string; SAP_Customer_Number__c: string | null }>(
        `SELECT Id, SAP_Customer_Number__c FROM Account WHERE ${integrationIdField} = ${soqlString(input.reference)} LIMIT 2`,
      );
      if (res.records.length > 1) {
        throw ApplicationFailure.create({
          type: ErrorType.SalesforceRejected,
          nonRetryable: true,
          message: `Salesforce has ${res.records.length} Accounts with ${integrationIdField} = ${input.reference}`,
        });
      }
      const record = res.records[0];
      return record
        ? { id: record.Id, sapCustomerNumber: record.SAP_Customer_Number__c ?? undefined }
        : undefined;
    });
  }

  return {
    findAccountByReference,

    /** Creates or updates the Account whose Integration_Id__c is `reference`. */
    async upsertAccount(input: {
      reference: string;
      fields: SalesforceAccountFields;
    }): Promise<{ id: string; created: boolean; attempt: number }> {
      return run('account upsert', async () => {
        const conn = await client.ready();
        // The sObject Collections upsert (PATCH /composite/sobjects/Account/Integration_Id__c, API 46+)
        // carries the reference in the body. In the single-record form it would be the last URL segment,
        // where Salesforce answers 404 for values ending in a file-format-like suffix such as ".inc"
        // (REST API guide, "Upsert Records Using sObject Rows by External ID"), and "/" or "?" would
        // need encoding that jsforce does not do.
        const [res] = await conn
          .sobject('Account')
          .upsert([{ ...input.fields, [integrationIdField]: input.reference }], integrationIdField);
        if (!res) throw new Error('the upsert answered no result');
        if (!res.success) throw saveError(res.errors);
        // An update of an existing record (HTTP 204 on older API versions) carries no id: look it up.
        const id = res.id ?? (await findAccountByReference({ reference: input.reference }))?.id;
        if (!id) throw new Error('the upsert succeeded but the Account cannot be read back');
        // With the attempt, the caller can tell "updated an Account someone else just created" (a first
        // attempt that created nothing) from "updated the Account our lost first attempt created".
        return {
          id,
          created: Boolean((res as { created?: boolean }).created),
          attempt: activityInfo().attempt,
        };
      });
    },

    async setAccountSapCustomerNumber(input: {
      accountId: string;
      sapCustomerNumber: string;
    }): Promise<void> {
      await run('account update', async () => {
        const conn = await client.ready();
        const res = await conn
          .sobject('Account')
          .update({ Id: input.accountId, SAP_Customer_Number__c: input.sapCustomerNumber });
        if (!res.success) throw saveError(res.errors);
      });
    },

    /** Reads one record; undefined when it does not exist (or was deleted). */
    async getRecord(input: {
      type: 'Account' | 'Opportunity';
      id: string;
      fields: string[];
    }): Promise<Record<string, unknown> | undefined> {
      return run(`${input.type} read`, async () => {
        const conn = await client.ready();
        try {
          const record = (await conn
            .sobject(input.type)
            .retrieve(input.id, { fields: input.fields })) as Record<string, unknown>;
          return Object.fromEntries(input.fields.map((f) => [f, record[f] ?? null]));
        } catch (err) {
          if ((err as { errorCode?: string }).errorCode === 'NOT_FOUND') return undefined;
          throw err;
        }
      });
    },

    async findAccountBySapCustomerNumber(input: {
      sapCustomerNumber: string;
    }): Promise<{ id: string } | undefined> {
      return run('account lookup by SAP number', async () => {
        const conn = await client.ready();
        const res = await conn.query<{ Id: string }>(
          `SELECT Id FROM Account WHERE SAP_Customer_Number__c = ${soqlString(input.sapCustomerNumber)} ORDER BY CreatedDate LIMIT 1`,
        );
        const record = res.records[0];
        return record ? { id: record.Id } : undefined;
      });
    },

    async updateRecord(input: {
      type: 'Account' | 'Opportunity';
      id: string;
      fields: Record<string, unknown>;
    }): Promise<void> {
      await run(`${input.type} update`, async () => {
        const conn = await client.ready();
        const res = await conn.sobject(input.type).update({ ...input.fields, Id: input.id });
        if (!res.success) throw saveError(res.errors);
      });
    },

    /** Creates or updates the Opportunity whose SAP_Order_Number__c is `sapOrderNumber`. */
    async upsertOpportunityBySapOrder(input: {
      sapOrderNumber: string;
      fields: Record<string, unknown>;
    }): Promise<{ id: string; created: boolean }> {
      return run('opportunity upsert', async () => {
        const conn = await client.ready();
        const res = await conn
          .sobject('Opportunity')
          .upsert({ ...input.fields, SAP_Order_Number__c: input.sapOrderNumber }, 'SAP_Order_Number__c');
        if (!res.success) throw saveError(res.errors);
        let id: string | undefined = res.id;
        if (!id) {
          const found = await conn.query<{ Id: string }>(
            `SELECT Id FROM Opportunity WHERE SAP_Order_Number__c = ${soqlString(input.sapOrderNumber)} LIMIT 1`,
          );
          id = found.records[0]?.Id;
        }
        if (!id) throw new Error('the upsert succeeded but the Opportunity cannot be read back');
        return { id, created: Boolean((res as { created?: boolean }).created) };
      });
    },

    /** Sets Stock_Available__c on every open Opportunity for this material; returns their ids. */
    async updateStockForMaterial(input: {
      material: string;
      quantity: number;
    }): Promise<{ updated: string[] }> {
      return run('stock update', async () => {
        const conn = await client.ready();
        const res = await conn.query<{ Id: string; Stock_Available__c: number | null }>(
          `SELECT Id, Stock_Available__c FROM Opportunity WHERE SAP_Material__c = ${soqlString(input.material)} AND IsClosed = false`,
          { autoFetch: true, maxFetch: 10_000 },
        );
        const stale = res.records.filter((r) => r.Stock_Available__c !== input.quantity);
        const updated: string[] = [];
        // sObject Collections take 200 records per call.
        for (let i = 0; i < stale.length; i += 200) {
          const batch = stale
            .slice(i, i + 200)
            .map((r) => ({ Id: r.Id, Stock_Available__c: input.quantity }));
          const results = await conn.sobject('Opportunity').update(batch, { allOrNone: true });
          for (const r of results) {
            if (!r.success) throw saveError(r.errors);
            if (r.id) updated.push(r.id);
          }
        }
        return { updated };
      });
    },

    /**
     * Compensation: deletes the Account this run created. With no id (the create's answer was lost),
     * it is found by reference. Already deleted counts as done.
     */
    async deleteAccount(input: {
      accountId?: string;
      reference: string;
    }): Promise<{ deleted: boolean; id?: string }> {
      return run('account delete', async () => {
        const conn = await client.ready();
        const id = input.accountId ?? (await findAccountByReference({ reference: input.reference }))?.id;
        if (!id) return { deleted: false };
        try {
          await conn.sobject('Account').destroy(id);
          return { deleted: true, id };
        } catch (err) {
          if (
            (err as { errorCode?: string }).errorCode === 'NOT_FOUND' ||
            (err as { errorCode?: string }).errorCode === 'ENTITY_IS_DELETED'
          ) {
            return { deleted: false, id };
          }
          throw err;
        }
      });
    },
  };
}

export type SalesforceActivities = ReturnType<typeof createSalesforceActivities>;
