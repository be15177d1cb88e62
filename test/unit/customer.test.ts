import { describe, expect, it } from 'vitest';
import {
  customerSchema,
  toCustomerCreatedEvent,
  toE164,
  toSalesforceAccount,
  toSapCustomerCreate,
} from '../../src/domain/customer';
import type { CustomerInput } from '../../src/domain/customer';

export const ada: CustomerInput = {
  reference: 'crm-import-42',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '+44 20 7946 0958',
  company: 'Analytical Engines Ltd',
  address: { street: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
};

const area = { salesOrg: '1000', distributionChannel: '10', division: '00', referenceCustomer: '100000' };

function issues(input: unknown): Record<string, string> {
  const r = customerSchema.safeParse(input);
  if (r.success) return {};
  return Object.fromEntries(r.error.issues.map((i) => [i.path.join('.') || '(root)', i.message]));
}

describe('customer schema', () => {
  it('normalises: trims strings, lower-cases the e-mail, upper-cases codes, E.164 phone, default language', () => {
    const c = customerSchema.parse({
      ...ada,
      firstName: '  Ada ',
      email: ' Ada@Example.COM ',
      address: { ...ada.address, country: 'gb' },
      currency: 'gbp',
    });
    expect(c).toMatchObject({
      firstName: 'Ada',
      email: 'ada@example.com',
      phone: '+442079460958',
      language: 'EN',
      currency: 'GBP',
      address: { country: 'GB' },
    });
  });

  it('is idempotent: what it returns validates to itself (so a run the API started need not validate again)', () => {
    const sent: CustomerInput[] = [
      ada,
      {
        ...ada,
        reference: ' crm-import-43 ',
        firstName: '\u00a0Zoë ',
        lastName: ' Ünal\ufeff',
        email: ' Zoe.Unal@Example.COM ',
        phone: '0044 (20) 7946-0958',
        company: undefined,
        address: { street: ' Kurfürstendamm 1 ', city: 'Berlin ', postalCode: ' 10719', country: ' de ' },
        language: ' de ',
        currency: 'eur',
      },
      { ...ada, phone: undefined, language: undefined, currency: undefined },
      {
        ...ada,
        firstName: '张',
        lastName: '伟',
        company: '北京测试有限公司',
        address: { ...ada.address, country: 'cn' },
      },
    ];
    for (const input of sent) {
      const once = customerSchema.parse(input);
      // Through JSON, as the payload converter carries it to the workflow.
      const carried: unknown = JSON.parse(JSON.stringify(once));
      expect(customerSchema.parse(carried)).toEqual(once);
      expect(carried).toEqual(once);
    }
  });

  it('accepts non-Latin names and counts their length in characters, not UTF-16 units', () => {
    const name = '𠮷'.repeat(35); // 35 characters, 70 UTF-16 units
    const c = customerSchema.parse({ ...ada, company: undefined, firstName: 'Юлия', lastName: name });
    expect(c.lastName).toBe(name);
    expect(issues({ ...ada, company: undefined, lastName: '𠮷'.repeat(36) })).toEqual({
      lastName: 'lastName must be at most 35 characters (SAP field length)',
    });
  });

  it('rejects values longer than SAP field lengths instead of truncating them', () => {
    expect(
      issues({
        ...ada,
        lastName: 'L'.repeat(36),
        address: { ...ada.address, street: 'S'.repeat(36), postalCode: '12345678901' },
      }),
    ).toMatchObject({
      lastName: 'lastName must be at most 35 characters (SAP field length)',
      'address.street': 'address.street must be at most 35 characters (SAP field length)',
      'address.postalCode': 'address.postalCode must be at most 10 characters (SAP field length)',
    });
  });

  it('with a company, requires the person name to fit SAP NAME_2', () => {
    expect(issues({ ...ada, firstName: 'Augusta Ada King', lastName: 'Countess of Lovelace' })).toEqual({
      lastName: 'with a company, "firstName lastName" must fit in 35 characters (SAP NAME_2)',
    });
  });

  it('makes optional fields optional', () => {
    const c = customerSchema.parse({ ...ada, phone: undefined, company: undefined });
    expect(c.phone).toBeUndefined();
    expect(toSalesforceAccount(c)).not.toHaveProperty('Phone');
    expect(toSapCustomerCreate(c, area).PI_PERSONALDATA).not.toHaveProperty('TEL1_NUMBR');
  });

  it('rejects unknown fields, bad e-mail, national phone numbers, unknown countries and bad references', () => {
    expect(
      issues({
        ...ada,
        reference: 'has spaces',
        email: 'not-an-email',
        phone: '020 7946 0958',
        address: { ...ada.address, country: 'XX', extra: 1 },
        nickname: 'ada',
      }),
    ).toEqual({
      reference: 'reference may contain letters, digits, ".", "_", ":" and "-"',
      email: 'email must be a valid e-mail address',
      phone: 'phone must be an international number with its country code, e.g. +44 20 7946 0958',
      'address.country': 'country is not a known ISO 3166-1 code',
      address: expect.stringContaining('extra'),
      '(root)': expect.stringContaining('nickname'),
    });
    expect(issues({ ...ada, address: { ...ada.address, country: 'EU' } })).toHaveProperty('address.country');
  });

  it('reports a malformed country as a validation issue (the region lookup throws on such input)', () => {
    // Intl.DisplayNames#of throws a RangeError for '' (Node 24) and for 'A' or '1X' (every Node):
    // the lookup must only ever see two letters.
    for (const country of ['', 'A', '1X', 'G B', 'GBR']) {
      expect(issues({ ...ada, address: { ...ada.address, country } })).toEqual({
        'address.country': 'country must be an ISO 3166-1 alpha-2 code such as GB',
      });
    }
  });

  it('reports every missing required field', () => {
    expect(Object.keys(issues({})).sort()).toEqual([
      'address',
      'email',
      'firstName',
      'lastName',
      'reference',
    ]);
  });
});

describe('phone normalisation', () => {
  it.each([
    ['+44 20 7946 0958', '+442079460958'],
    ['0044 (20) 7946-0958', '+442079460958'],
    ['+1 415.555.2671', '+14155552671'],
    ['020 7946 0958', undefined],
    ['+0 123 456', undefined],
    ['+1234567890123456', undefined],
  ])('%s -> %s', (raw, expected) => {
    expect(toE164(raw)).toBe(expected);
  });
});

describe('mappings', () => {
  const customer = customerSchema.parse(ada);

  it('maps to a Salesforce Account', () => {
    expect(toSalesforceAccount(customer)).toEqual({
      Name: 'Analytical Engines Ltd',
      Phone: '+442079460958',
      BillingStreet: "12 St James's Square",
      BillingCity: 'London',
      BillingPostalCode: 'SW1Y 4JH',
      BillingCountry: 'GB',
      Type: 'Customer',
      Description: 'Contact: Ada Lovelace <ada@example.com>',
    });
  });

  it('maps a company customer to PI_COMPANYDATA with the copy reference from config', () => {
    expect(toSapCustomerCreate(customer, area)).toEqual({
      PI_COMPANYDATA: {
        NAME: 'Analytical Engines Ltd',
        NAME_2: 'Ada Lovelace',
        LANGU_ISO: 'EN',
        STREET: "12 St James's Square",
        CITY: 'London',
        POSTL_COD1: 'SW1Y 4JH',
        COUNTRY: 'GB',
        E_MAIL: 'ada@example.com',
        TEL1_NUMBR: '+442079460958',
      },
      PI_COPYREFERENCE: { SALESORG: '1000', DISTR_CHAN: '10', DIVISION: '00', REF_CUSTMR: '0000100000' },
    });
  });

  it('maps a person to PI_PERSONALDATA', () => {
    const person = customerSchema.parse({ ...ada, company: undefined, currency: 'GBP' });
    expect(toSapCustomerCreate(person, area).PI_PERSONALDATA).toEqual({
      FIRSTNAME: 'Ada',
      LASTNAME: 'Lovelace',
      LANGUP_ISO: 'EN',
      STREET: "12 St James's Square",
      CITY: 'London',
      POSTL_COD1: 'SW1Y 4JH',
      COUNTRY: 'GB',
      E_MAIL: 'ada@example.com',
      TEL1_NUMBR: '+442079460958',
      CURRENCY: 'GBP',
    });
  });

  it('maps to the customer.created event', () => {
    expect(
      toCustomerCreatedEvent(customer, {
        salesforceAccountId: '001000000000001AAA',
        sapCustomerNumber: '0000100001',
      }),
    ).toEqual({
      type: 'customer.created',
      data: {
        reference: 'crm-import-42',
        name: 'Analytical Engines Ltd',
        email: 'ada@example.com',
        phone: '+442079460958',
        country: 'GB',
        salesforceAccountId: '001000000000001AAA',
        sapCustomerNumber: '0000100001',
      },
    });
  });
});
