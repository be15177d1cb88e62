import { describe, expect, it } from 'vitest';
import { billingReferenceKey, toBillingCustomer } from '../../src/domain/billing';
import { customerSchema } from '../../src/domain/customer';

const base = {
  reference: 'crm-import-42',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'Ada@Example.com',
  address: { street: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
};
const links = { salesforceAccountId: '001000000000001AAA', sapCustomerNumber: '0000100042' };

describe('toBillingCustomer', () => {
  it('maps a company customer with the links to the other systems in metadata', () => {
    const c = customerSchema.parse({
      ...base,
      company: 'Analytical Engines Ltd',
      phone: '+44 20 7946 0958',
      language: 'de',
    });
    expect(toBillingCustomer(c, links)).toEqual({
      name: 'Analytical Engines Ltd',
      email: 'ada@example.com',
      phone: '+442079460958',
      description: 'Analytical Engines Ltd (Ada Lovelace)',
      address: { line1: "12 St James's Square", city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
      preferred_locales: ['de'],
      metadata: {
        [billingReferenceKey]: 'crm-import-42',
        salesforce_account_id: '001000000000001AAA',
        sap_customer_number: '0000100042',
      },
    });
  });

  it('a person without company or phone is billed under their name, with no phone field', () => {
    const mapped = toBillingCustomer(customerSchema.parse(base), links);
    expect(mapped.name).toBe('Ada Lovelace');
    expect(mapped.description).toBe('Ada Lovelace');
    expect(mapped).not.toHaveProperty('phone');
  });
});
