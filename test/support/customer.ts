import { customerSchema } from '../../src/domain/customer';
import type { Customer, CustomerInput } from '../../src/domain/customer';
import { uniquePrefix } from './temporal';

/**
 * A valid customer for `POST /v1/customers` (and, through `customerSchema.parse`, for the workflow and
 * activity tests), with a unique reference and a company name made from it, so SAP's check-before-create
 * never matches another test's customer. `overrides` replace fields; an overridden reference is the one
 * the company name is made from.
 */
export function customerBody(label: string, overrides: Record<string, unknown> = {}) {
  const reference = typeof overrides.reference === 'string' ? overrides.reference : uniquePrefix(label);
  return {
    reference,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: '+44 20 7946 0958',
    company: `Engines ${reference.slice(-8)}`,
    address: { street: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    ...overrides,
  };
}

/** The same customer as a workflow or activity receives it: parsed (normalised) by the domain schema. */
export function domainCustomer(label: string, overrides: Partial<CustomerInput> = {}): Customer {
  return customerSchema.parse(customerBody(label, overrides));
}
