import { describe, expect, it } from 'vitest';
import { IdGenerator, checksum, normalizeId, to18 } from '../../src/simulators/salesforce/ids';
import { checkQuery, parseSoql, runQuery } from '../../src/simulators/salesforce/soql';
import type { SfError } from '../../src/simulators/salesforce/errors';

describe('Salesforce id checksum', () => {
  // Pairs published outside this project: 001A0000006Vm9r -> …IAC is the standard example of the
  // Salesforce community's 15->18 conversion write-ups (StackExchange answers, open-source converters
  // such as the Python "tolongid" helper's README); the 003 pairs are the valid-id fixtures of an
  // open-source "IsSalesforceId" validator's test suite; 00D50000000IZ3Z -> …EAW appears in public
  // case-safe-id test suites. They check the algorithm against real ids, not against itself.
  const known: [string, string][] = [
    ['001A0000006Vm9r', '001A0000006Vm9rIAC'],
    ['003A0000005QB3A', '003A0000005QB3AIAW'],
    ['003A0000008qb1s', '003A0000008qb1sIAA'],
    ['00D50000000IZ3Z', '00D50000000IZ3ZEAW'],
  ];

  it.each(known)('computes the published 18-char form of %s', (id15, id18) => {
    expect(to18(id15)).toBe(id18);
    expect(checksum(id15)).toBe(id18.slice(15));
  });

  it('derives each checksum char from the upper-case positions of one 5-char block', () => {
    // "00000" -> no bits -> A; "ZZZZZ" -> all five bits (31) -> 5; "aBcDe" -> bits 1 and 3 (10) -> K.
    expect(checksum('000000000000000')).toBe('AAA');
    expect(checksum('ZZZZZ00000aBcDe')).toBe('5AK');
  });

  it('normalises 15-char ids to 18 and accepts an 18-char id whose suffix is in any case', () => {
    expect(normalizeId('001A0000006Vm9r')).toBe('001A0000006Vm9rIAC');
    expect(normalizeId('001A0000006Vm9rIAC')).toBe('001A0000006Vm9rIAC');
    expect(normalizeId('001A0000006Vm9riac')).toBe('001A0000006Vm9rIAC');
  });

  it('rejects ids with a wrong checksum, a wrong length or illegal characters', () => {
    expect(normalizeId('001A0000006Vm9rAAA')).toBeUndefined();
    expect(normalizeId('001A0000006Vm9')).toBeUndefined();
    expect(normalizeId('001A0000006Vm9r-')).toBeUndefined();
  });

  it('generates distinct 18-char ids with the key prefix and a valid checksum', () => {
    const gen = new IdGenerator();
    const ids = Array.from({ length: 500 }, () => gen.next('006'));
    expect(new Set(ids).size).toBe(500);
    for (const id of ids) {
      expect(id).toMatch(/^006[0-9A-Za-z]{15}$/);
      expect(normalizeId(id.slice(0, 15))).toBe(id);
    }
  });
});

describe('SOQL parser', () => {
  const rows = [
    {
      Id: '001A0000006Vm9rIAC',
      Name: 'Acme',
      AnnualRevenue: 10,
      Website: null,
      CreatedDate: Date.parse('2024-01-02T00:00:00Z'),
    },
    {
      Id: '001A0000006Vm9sIAC',
      Name: 'acme east',
      AnnualRevenue: 20,
      Website: 'x',
      CreatedDate: Date.parse('2023-06-01T00:00:00Z'),
    },
    {
      Id: '001A0000006Vm9tIAC',
      Name: 'Globex',
      AnnualRevenue: null,
      Website: 'y',
      CreatedDate: Date.parse('2024-05-01T12:00:00Z'),
    },
  ];
  const run = (soql: string) => runQuery(checkQuery(soql, parseSoql(soql)), rows).map((r) => r.Name);
  const errorOf = (soql: string): SfError => {
    try {
      checkQuery(soql, parseSoql(soql));
    } catch (err) {
      return err as SfError;
    }
    throw new Error('expected an error');
  };

  it('filters with LIKE (case-insensitive, % and _), IN, NOT and parenthesised OR', () => {
    expect(run("SELECT Name FROM Account WHERE Name LIKE 'acme%'")).toEqual(['Acme', 'acme east']);
    expect(run("SELECT Name FROM Account WHERE Name LIKE 'Glob_x'")).toEqual(['Globex']);
    expect(run("SELECT Name FROM Account WHERE Name IN ('ACME', 'Globex')")).toEqual(['Acme', 'Globex']);
    expect(run("SELECT Name FROM Account WHERE NOT Name = 'Acme'")).toEqual(['acme east', 'Globex']);
    expect(
      run("SELECT Name FROM Account WHERE (AnnualRevenue > 15 OR Website = null) AND Name != 'x'"),
    ).toEqual(['Acme', 'acme east']);
  });

  it('compares datetime literals in Z and +0000 form', () => {
    expect(run('SELECT Name FROM Account WHERE CreatedDate >= 2024-01-01T00:00:00Z')).toEqual([
      'Acme',
      'Globex',
    ]);
    expect(run('SELECT Name FROM Account WHERE CreatedDate < 2024-01-02T00:00:00+0000')).toEqual([
      'acme east',
    ]);
  });

  it('orders with NULLS LAST and applies LIMIT and OFFSET', () => {
    expect(run('SELECT Name FROM Account ORDER BY AnnualRevenue ASC NULLS LAST')).toEqual([
      'Acme',
      'acme east',
      'Globex',
    ]);
    expect(run('SELECT Name FROM Account ORDER BY AnnualRevenue')).toEqual(['Globex', 'Acme', 'acme east']);
    expect(run('SELECT Name FROM Account ORDER BY Name DESC LIMIT 1 OFFSET 1')).toEqual(['acme east']);
  });

  it('reports MALFORMED_QUERY with the row/column of the unexpected token', () => {
    const err = errorOf('SELECT Id FRM Account');
    expect(err.errorCode).toBe('MALFORMED_QUERY');
    expect(err.message).toBe(
      '\nSELECT Id FRM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: FRM',
    );
    expect(errorOf("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'").errorCode).toBe(
      'MALFORMED_QUERY',
    );
    expect(errorOf("SELECT Id FROM Account WHERE Name = 'open").errorCode).toBe('MALFORMED_QUERY');
  });

  it('reports INVALID_FIELD, INVALID_TYPE and INVALID_QUERY_FILTER_OPERATOR like Salesforce', () => {
    expect(errorOf('SELECT Nme FROM Account').errorCode).toBe('INVALID_FIELD');
    expect(errorOf('SELECT Id FROM Acount').errorCode).toBe('INVALID_TYPE');
    const quoted = errorOf("SELECT Id FROM Account WHERE CreatedDate > '2024-01-01T00:00:00Z'");
    expect(quoted.errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
    expect(quoted.message).toContain(
      "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes",
    );
  });
});
