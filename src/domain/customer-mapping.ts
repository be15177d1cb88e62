import type { Customer } from './customer';

/**
 * The canonical Customer's mappings to each system, and the rules they share with its validation
 * (customer.ts, which re-exports them). Free of zod on purpose: workflow code imports the mappings from
 * here, and every workflow start evaluates the workflow bundle's modules for itself, so a workflow that
 * never validates a customer does not pay for building the schemas (src/workflows/shared/customer-validation.ts
 * loads them for the runs that do).
 */

/** Characters, not UTF-16 units: SAP counts characters, and non-Latin names must not be penalised. */
export const charLength = (s: string) => [...s].length;

/** Normalises a phone number to E.164 (`+442079460958`); national numbers without a country code are rejected. */
export function toE164(raw: string): string | undefined {
  let s = raw.trim().replace(/[\s().\-/]/g, '');
  if (s.startsWith('00')) s = `+${s.slice(2)}`;
  return /^\+[1-9]\d{6,14}$/.test(s) ? s : undefined;
}

export function fullName(c: Pick<Customer, 'firstName' | 'lastName'>): string {
  return `${c.firstName} ${c.lastName}`;
}

/** Salesforce Account fields (the upsert key `Integration_Id__c` travels in the URL, not the body). */
export interface SalesforceAccountFields {
  Name: string;
  Phone?: string;
  BillingStreet: string;
  BillingCity: string;
  BillingPostalCode: string;
  BillingCountry: string;
  Type: 'Customer';
  Description: string;
}

export function toSalesforceAccount(c: Customer): SalesforceAccountFields {
  return {
    Name: c.company ?? fullName(c),
    ...(c.phone ? { Phone: c.phone } : {}),
    BillingStreet: c.address.street,
    BillingCity: c.address.city,
    BillingPostalCode: c.address.postalCode,
    BillingCountry: c.address.country,
    Type: 'Customer',
    Description: `Contact: ${fullName(c)} <${c.email}>`,
  };
}

export interface SapSalesArea {
  salesOrg: string;
  distributionChannel: string;
  division: string;
  referenceCustomer: string;
}

/** Parameters of BAPI_CUSTOMER_CREATEFROMDATA1, in SAP's RFC names. */
export interface SapCustomerCreateParams {
  PI_PERSONALDATA?: Record<string, string>;
  PI_COMPANYDATA?: Record<string, string>;
  PI_COPYREFERENCE: { SALESORG: string; DISTR_CHAN: string; DIVISION: string; REF_CUSTMR: string };
}

/**
 * What SAP needs to create a customer: a validated Customer from the API, or an organisation known
 * only by name and address (a Salesforce Account created by a user, see accountToSapCustomer).
 */
export type SapCustomerSource = Pick<Customer, 'address' | 'language'> &
  Partial<Pick<Customer, 'company' | 'firstName' | 'lastName' | 'email' | 'phone' | 'currency'>>;

const personName = (c: SapCustomerSource) => [c.firstName, c.lastName].filter(Boolean).join(' ');

/** A person becomes PI_PERSONALDATA; a customer with a company becomes PI_COMPANYDATA with the person in NAME_2. */
export function toSapCustomerCreate(c: SapCustomerSource, area: SapSalesArea): SapCustomerCreateParams {
  const address = {
    STREET: c.address.street,
    CITY: c.address.city,
    POSTL_COD1: c.address.postalCode,
    COUNTRY: c.address.country,
    ...(c.email ? { E_MAIL: c.email } : {}),
    ...(c.phone ? { TEL1_NUMBR: c.phone } : {}),
    ...(c.currency ? { CURRENCY: c.currency } : {}),
  };
  const copyReference = {
    SALESORG: area.salesOrg,
    DISTR_CHAN: area.distributionChannel,
    DIVISION: area.division,
    REF_CUSTMR: area.referenceCustomer.padStart(10, '0'),
  };
  if (c.company) {
    return {
      PI_COMPANYDATA: {
        NAME: c.company,
        ...(personName(c) ? { NAME_2: personName(c) } : {}),
        LANGU_ISO: c.language,
        ...address,
      },
      PI_COPYREFERENCE: copyReference,
    };
  }
  return {
    PI_PERSONALDATA: {
      ...(c.firstName ? { FIRSTNAME: c.firstName } : {}),
      LASTNAME: c.lastName ?? '',
      LANGUP_ISO: c.language,
      ...address,
    },
    PI_COPYREFERENCE: copyReference,
  };
}

/** The name SAP stores in KNA1-NAME1 for this customer: what check-before-create searches for. */
export function sapName1(c: SapCustomerSource): string {
  return c.company ?? personName(c);
}

export interface CustomerCreatedEvent {
  type: 'customer.created';
  data: {
    reference: string;
    name: string;
    email: string;
    phone?: string;
    country: string;
    salesforceAccountId: string;
    sapCustomerNumber: string;
    /** Present when billing is configured: the billing system's customer id. */
    billingCustomerId?: string;
  };
}

export function toCustomerCreatedEvent(
  c: Customer,
  ids: { salesforceAccountId: string; sapCustomerNumber: string; billingCustomerId?: string },
): CustomerCreatedEvent {
  return {
    type: 'customer.created',
    data: {
      reference: c.reference,
      name: c.company ?? fullName(c),
      email: c.email,
      ...(c.phone ? { phone: c.phone } : {}),
      country: c.address.country,
      ...ids,
    },
  };
}

/**
 * The KNA1 fields that identify this customer in SAP for check-before-create (BAPIs are not
 * idempotent, and the create BAPI has no field for the caller's reference): name, street, city,
 * postal code and country, as SAP stores them.
 */
export interface SapCustomerMatch {
  NAME1: string;
  STRAS: string;
  ORT01: string;
  PSTLZ: string;
  LAND1: string;
}

export function toSapCustomerMatch(c: SapCustomerSource): SapCustomerMatch {
  return {
    NAME1: sapName1(c),
    STRAS: c.address.street,
    ORT01: c.address.city,
    PSTLZ: c.address.postalCode,
    LAND1: c.address.country,
  };
}
