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
    }): Promise<{ id: string; created: boolean }> {
      return run('account upsert', async () => {
        const conn = await client.ready();
        // jsforce puts the external id into the URL unencoded.
        const res = await conn
          .sobject('Account')
          .upsert(
            { ...input.fields, [integrationIdField]: encodeURIComponent(input.reference) },
            integrationIdField,
          );
        if (!res.success)
          throw Object.assign(new Error(JSON.stringify(res.errors)), { errorCode: 'UPSERT_FAILED' });
        // An update of an existing record (HTTP 204 on older API versions) carries no id: look it up.
        const id = res.id ?? (await findAccountByReference({ reference: input.reference }))?.id;
        if (!id) throw new Error('the upsert succeeded but the Account cannot be read back');
        return { id, created: Boolean((res as { created?: boolean }).created) };
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
        if (!res.success)
          throw Object.assign(new Error(JSON.stringify(res.errors)), { errorCode: 'UPDATE_FAILED' });
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
