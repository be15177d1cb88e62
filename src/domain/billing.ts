import type { Customer } from './customer';
import { fullName } from './customer-mapping';

/**
 * The billing system's view of a customer (Stripe-compatible `POST /v1/customers` parameters) and the
 * metadata that links it to the run and the other systems. Stripe metadata keys are at most 40
 * characters and values at most 500; every value here is far shorter.
 */
export interface BillingCustomerParams {
  name: string;
  email: string;
  phone?: string;
  description: string;
  address: { line1: string; city: string; postal_code: string; country: string };
  preferred_locales: string[];
  metadata: Record<string, string>;
}

/** The metadata key that carries the customer reference: check-before-create searches by it. */
export const billingReferenceKey = 'integration_reference';

export function toBillingCustomer(
  c: Customer,
  links: { salesforceAccountId: string; sapCustomerNumber: string },
): BillingCustomerParams {
  return {
    name: c.company ?? fullName(c),
    email: c.email,
    ...(c.phone ? { phone: c.phone } : {}),
    description: c.company ? `${c.company} (${fullName(c)})` : fullName(c),
    address: {
      line1: c.address.street,
      city: c.address.city,
      postal_code: c.address.postalCode,
      country: c.address.country,
    },
    preferred_locales: [c.language.toLowerCase()],
    metadata: {
      [billingReferenceKey]: c.reference,
      salesforce_account_id: links.salesforceAccountId,
      sap_customer_number: links.sapCustomerNumber,
    },
  };
}
