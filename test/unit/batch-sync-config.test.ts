import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import {
  compareCursors,
  laterCursor,
  fieldDrift,
  comparableFromAccount,
  comparableFromSap,
} from '../../src/domain/batch-sync';
import type { AccountRecord } from '../../src/domain/batch-sync';
import { configuredSyncs, durationMs } from '../../src/schedules/specs';
import { changeWhere } from '../../src/activities/salesforce/batch';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('batch sync configuration', () => {
  it('defaults to one sync each way, with the shared SYNC_* settings', () => {
    const syncs = configuredSyncs(loadConfig({}));
    expect(syncs.map((s) => [s.spec.name, s.spec.direction, s.every])).toEqual([
      ['customers-salesforce-to-sap', 'salesforce-to-sap', '15m'],
      ['customers-sap-to-salesforce', 'sap-to-salesforce', '15m'],
    ]);
    expect(syncs[0]!.spec).toMatchObject({ quotaReserve: 0.9, parkCheckSeconds: 300, lookbackSeconds: 300 });
    expect(durationMs('250ms')).toBe(250);
  });

  it('an invalid sync configuration names the variable and the field', () => {
    expect(problemsOf({ BATCH_SYNCS: 'not json' })).toEqual(['BATCH_SYNCS: must be a JSON array']);
    expect(problemsOf({ BATCH_SYNCS: '[{"name":"a","direction":"sideways"}]' })[0]).toMatch(
      /^BATCH_SYNCS \(0\.direction\)/,
    );
    expect(
      problemsOf({ BATCH_SYNCS: '[{"name":"a","direction":"sap-to-salesforce","pageSize":0}]' })[0],
    ).toMatch(/^BATCH_SYNCS \(0\.pageSize\)/);
    expect(
      problemsOf({
        BATCH_SYNCS:
          '[{"name":"a","direction":"sap-to-salesforce"},{"name":"a","direction":"salesforce-to-sap"}]',
      })[0],
    ).toMatch(/^BATCH_SYNCS: sync names must be unique/);
    expect(problemsOf({ SYNC_QUOTA_RESERVE: '1.5' })[0]).toMatch(/^SYNC_QUOTA_RESERVE/);
  });

  it('a process started with a bad sync configuration exits 2 and names the variable', () => {
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.resolve(__dirname, '../../src/schedules/main.ts')],
      {
        env: { ...process.env, BATCH_SYNCS: '[{"name":"Bad Name","direction":"salesforce-to-sap"}]' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('BATCH_SYNCS (0.name)');
  });
});

describe('cursor and mapping rules', () => {
  const sf = (systemModstamp: string, id: string) => ({ system: 'salesforce' as const, systemModstamp, id });
  it('orders Salesforce cursors by SystemModstamp, then Id, and never moves back', () => {
    const a = sf('2026-01-01T00:00:00.000Z', '001A');
    const b = sf('2026-01-01T00:00:00.000Z', '001B');
    expect(compareCursors(a, b)).toBeLessThan(0);
    expect(laterCursor(b, a)).toBe(b);
    expect(
      compareCursors(
        { system: 'sap', createdAt: 'x', pointer: '10' },
        { system: 'sap', createdAt: 'x', pointer: '9' },
      ),
    ).toBe(1);
  });
  it('reads strictly after (SystemModstamp, Id), or from an instant when the id is empty', () => {
    expect(
      changeWhere({ after: { systemModstamp: '2026-01-01T00:00:00.000Z', id: '001Dn0000000001AAA' } }),
    ).toBe(
      " WHERE (SystemModstamp > 2026-01-01T00:00:00Z OR (SystemModstamp = 2026-01-01T00:00:00Z AND Id > '001Dn0000000001AAA'))",
    );
    expect(
      changeWhere({
        after: { systemModstamp: '2026-01-01T00:00:00.000Z', id: '' },
        until: '2026-01-02T00:00:00Z',
      }),
    ).toBe(' WHERE SystemModstamp >= 2026-01-01T00:00:00Z AND SystemModstamp <= 2026-01-02T00:00:00Z');
  });
  it('compares an Account and an SAP customer field by field through the same mapping', () => {
    const account = {
      Name: 'Acme',
      BillingStreet: 'Main 1',
      BillingCity: 'Berlin',
      BillingPostalCode: '10115',
      BillingCountry: 'de',
      Phone: '+49 30 1234567',
    } as AccountRecord;
    const sap = {
      KUNNR: '1',
      NAME1: 'Acme',
      STRAS: 'Main 1',
      ORT01: 'Bonn',
      PSTLZ: '10115',
      LAND1: 'DE',
      TELF1: '+49301234567',
      LOEVM: '',
    };
    expect(fieldDrift(comparableFromAccount(account), comparableFromSap(sap))).toEqual(['city']);
  });
});
