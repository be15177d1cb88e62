import { KEY_PREFIXES } from './ids';

/**
 * The org's metadata: which sObjects exist and what their fields are. Describe results, write validation
 * and SOQL all read from here, so one definition keeps them consistent.
 */
export type FieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'textarea'
  | 'phone'
  | 'url'
  | 'email'
  | 'picklist'
  | 'double'
  | 'currency'
  | 'percent'
  | 'int'
  | 'boolean'
  | 'date'
  | 'datetime';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length?: number;
  precision?: number;
  scale?: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  /** Required on insert: not nillable, createable and not defaulted by the server. */
  required?: boolean;
  externalId?: boolean;
  unique?: boolean;
  caseSensitive?: boolean;
  referenceTo?: string[];
  defaultedOnCreate?: boolean;
  picklistValues?: string[];
  custom?: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: FieldDef[];
  /** Lower-cased name -> field, because SOQL and the REST API match field names case-insensitively. */
  byLowerName: Map<string, FieldDef>;
}

const sys = (name: string, label: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  label,
  type,
  nillable: false,
  createable: false,
  updateable: false,
  defaultedOnCreate: true,
  ...extra,
});

const field = (name: string, label: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  label,
  type,
  nillable: true,
  createable: true,
  updateable: true,
  ...(type === 'string' || type === 'picklist' ? { length: 255 } : {}),
  ...(type === 'phone' ? { length: 40 } : {}),
  ...(type === 'url' ? { length: 255 } : {}),
  ...(type === 'email' ? { length: 80 } : {}),
  ...(type === 'textarea' ? { length: 32000 } : {}),
  ...(name.endsWith('__c') ? { custom: true } : {}),
  ...extra,
});

const requiredField = (
  name: string,
  label: string,
  type: FieldType,
  extra: Partial<FieldDef> = {},
): FieldDef => field(name, label, type, { nillable: false, required: true, ...extra });

/** Fields every object has, maintained by the server. */
function systemFields(): FieldDef[] {
  return [
    sys('Id', 'Record ID', 'id', { length: 18 }),
    sys('IsDeleted', 'Deleted', 'boolean'),
    field('OwnerId', 'Owner ID', 'reference', {
      nillable: false,
      defaultedOnCreate: true,
      referenceTo: ['User'],
      length: 18,
    }),
    sys('CreatedDate', 'Created Date', 'datetime'),
    sys('CreatedById', 'Created By ID', 'reference', { referenceTo: ['User'], length: 18 }),
    sys('LastModifiedDate', 'Last Modified Date', 'datetime'),
    sys('LastModifiedById', 'Last Modified By ID', 'reference', { referenceTo: ['User'], length: 18 }),
    sys('SystemModstamp', 'System Modstamp', 'datetime'),
  ];
}

/** The integration's custom fields, present on every object. */
function integrationFields(extra: { sapOrderNumberExternal: boolean }): FieldDef[] {
  return [
    field('Integration_Id__c', 'Integration Id', 'string', { length: 255, externalId: true, unique: true }),
    field('SAP_Customer_Number__c', 'SAP Customer Number', 'string', { length: 10 }),
    field('SAP_Order_Number__c', 'SAP Order Number', 'string', {
      length: 10,
      ...(extra.sapOrderNumberExternal ? { externalId: true, unique: true } : {}),
    }),
  ];
}

function objectDef(
  name: string,
  label: string,
  labelPlural: string,
  keyPrefix: string,
  fields: FieldDef[],
): ObjectDef {
  return {
    name,
    label,
    labelPlural,
    keyPrefix,
    fields,
    byLowerName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
  };
}

function buildSchema(): Map<string, ObjectDef> {
  const account = objectDef('Account', 'Account', 'Accounts', KEY_PREFIXES.Account, [
    ...systemFields(),
    requiredField('Name', 'Account Name', 'string', { length: 255 }),
    field('AccountNumber', 'Account Number', 'string', { length: 40 }),
    field('Type', 'Account Type', 'picklist', {
      picklistValues: ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'],
    }),
    field('Industry', 'Industry', 'picklist'),
    field('Phone', 'Account Phone', 'phone'),
    field('Fax', 'Account Fax', 'phone'),
    field('Website', 'Website', 'url'),
    field('BillingStreet', 'Billing Street', 'textarea', { length: 255 }),
    field('BillingCity', 'Billing City', 'string', { length: 40 }),
    field('BillingState', 'Billing State/Province', 'string', { length: 80 }),
    field('BillingPostalCode', 'Billing Zip/Postal Code', 'string', { length: 20 }),
    field('BillingCountry', 'Billing Country', 'string', { length: 80 }),
    field('ShippingStreet', 'Shipping Street', 'textarea', { length: 255 }),
    field('ShippingCity', 'Shipping City', 'string', { length: 40 }),
    field('ShippingPostalCode', 'Shipping Zip/Postal Code', 'string', { length: 20 }),
    field('ShippingCountry', 'Shipping Country', 'string', { length: 80 }),
    field('Description', 'Account Description', 'textarea'),
    field('NumberOfEmployees', 'Employees', 'int', { precision: 8, scale: 0 }),
    field('AnnualRevenue', 'Annual Revenue', 'currency', { precision: 18, scale: 0 }),
    field('Integration_Id__c', 'Integration Id', 'string', { length: 255, externalId: true, unique: true }),
    // An external id that is deliberately NOT unique, as SF allows: upserting by it can match several
    // records (HTTP 300).
    field('SAP_Customer_Number__c', 'SAP Customer Number', 'string', { length: 10, externalId: true }),
    field('SAP_Order_Number__c', 'SAP Order Number', 'string', { length: 10 }),
  ]);
  const contact = objectDef('Contact', 'Contact', 'Contacts', KEY_PREFIXES.Contact, [
    ...systemFields(),
    field('AccountId', 'Account ID', 'reference', { referenceTo: ['Account'], length: 18 }),
    field('Salutation', 'Salutation', 'picklist', { length: 40 }),
    field('FirstName', 'First Name', 'string', { length: 40 }),
    requiredField('LastName', 'Last Name', 'string', { length: 80 }),
    field('Email', 'Email', 'email'),
    field('Phone', 'Business Phone', 'phone'),
    field('MobilePhone', 'Mobile Phone', 'phone'),
    field('Title', 'Title', 'string', { length: 128 }),
    field('Department', 'Department', 'string', { length: 80 }),
    field('MailingStreet', 'Mailing Street', 'textarea', { length: 255 }),
    field('MailingCity', 'Mailing City', 'string', { length: 40 }),
    field('MailingPostalCode', 'Mailing Zip/Postal Code', 'string', { length: 20 }),
    field('MailingCountry', 'Mailing Country', 'string', { length: 80 }),
    field('Birthdate', 'Birthdate', 'date'),
    field('HasOptedOutOfEmail', 'Email Opt Out', 'boolean', { nillable: false, defaultedOnCreate: true }),
    field('Description', 'Contact Description', 'textarea'),
    ...integrationFields({ sapOrderNumberExternal: false }),
  ]);
  const opportunity = objectDef('Opportunity', 'Opportunity', 'Opportunities', KEY_PREFIXES.Opportunity, [
    ...systemFields(),
    field('AccountId', 'Account ID', 'reference', { referenceTo: ['Account'], length: 18 }),
    requiredField('Name', 'Name', 'string', { length: 120 }),
    field('Description', 'Description', 'textarea'),
    requiredField('StageName', 'Stage', 'picklist', {
      picklistValues: [
        'Prospecting',
        'Qualification',
        'Needs Analysis',
        'Proposal/Price Quote',
        'Negotiation/Review',
        'Closed Won',
        'Closed Lost',
      ],
    }),
    field('Amount', 'Amount', 'currency', { precision: 18, scale: 2 }),
    field('Probability', 'Probability (%)', 'percent', { precision: 3, scale: 0 }),
    requiredField('CloseDate', 'Close Date', 'date'),
    field('Type', 'Opportunity Type', 'picklist'),
    field('NextStep', 'Next Step', 'string', { length: 255 }),
    field('LeadSource', 'Lead Source', 'picklist'),
    field('IsClosed', 'Closed', 'boolean', {
      nillable: false,
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    field('IsWon', 'Won', 'boolean', {
      nillable: false,
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    ...integrationFields({ sapOrderNumberExternal: true }),
    field('Stock_Available__c', 'Stock Available', 'double', { precision: 18, scale: 0 }),
    // Custom fields an org adds for the ERP integration: what to order, and how much.
    field('SAP_Material__c', 'SAP Material', 'string', { length: 40 }),
    field('Quantity__c', 'Quantity', 'double', { precision: 16, scale: 3 }),
  ]);
  const order = objectDef('Order', 'Order', 'Orders', KEY_PREFIXES.Order, [
    ...systemFields(),
    requiredField('AccountId', 'Account ID', 'reference', { referenceTo: ['Account'], length: 18 }),
    field('OpportunityId', 'Opportunity ID', 'reference', { referenceTo: ['Opportunity'], length: 18 }),
    requiredField('EffectiveDate', 'Order Start Date', 'date'),
    field('EndDate', 'Order End Date', 'date'),
    requiredField('Status', 'Status', 'picklist', { length: 40, picklistValues: ['Draft', 'Activated'] }),
    field('OrderNumber', 'Order Number', 'string', {
      length: 30,
      nillable: false,
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    field('PoNumber', 'PO Number', 'string', { length: 80 }),
    field('PoDate', 'PO Date', 'date'),
    field('Description', 'Description', 'textarea'),
    field('TotalAmount', 'Order Amount', 'currency', {
      precision: 18,
      scale: 2,
      nillable: false,
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    field('BillingStreet', 'Billing Street', 'textarea', { length: 255 }),
    field('BillingCity', 'Billing City', 'string', { length: 40 }),
    field('BillingPostalCode', 'Billing Zip/Postal Code', 'string', { length: 20 }),
    field('BillingCountry', 'Billing Country', 'string', { length: 80 }),
    ...integrationFields({ sapOrderNumberExternal: true }),
  ]);
  return new Map([account, contact, opportunity, order].map((o) => [o.name, o]));
}

export const SCHEMA: ReadonlyMap<string, ObjectDef> = buildSchema();

/** sObject names are case-insensitive in URLs and SOQL; this returns the canonical definition. */
export function findObject(name: string): ObjectDef | undefined {
  const lower = name.toLowerCase();
  for (const def of SCHEMA.values()) if (def.name.toLowerCase() === lower) return def;
  return undefined;
}

export function objectForId(id: string): ObjectDef | undefined {
  const prefix = id.slice(0, 3);
  for (const def of SCHEMA.values()) if (def.keyPrefix === prefix) return def;
  return undefined;
}

const SOAP_TYPES: Record<FieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  email: 'xsd:string',
  picklist: 'xsd:string',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  boolean: 'xsd:boolean',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

/** The field part of `sobjects/<Type>/describe`, with the attributes jsforce and tools commonly read. */
export function describeField(f: FieldDef): Record<string, unknown> {
  const isText = ['string', 'textarea', 'phone', 'url', 'email', 'picklist', 'id', 'reference'].includes(
    f.type,
  );
  return {
    name: f.name,
    label: f.label,
    type: f.type,
    soapType: SOAP_TYPES[f.type],
    length: isText ? (f.length ?? 0) : 0,
    byteLength: isText ? (f.length ?? 0) * 3 : 0,
    precision: f.precision ?? 0,
    scale: f.scale ?? 0,
    digits: f.type === 'int' ? (f.precision ?? 9) : 0,
    nillable: f.nillable,
    createable: f.createable,
    updateable: f.updateable,
    defaultedOnCreate: f.defaultedOnCreate ?? false,
    externalId: f.externalId ?? false,
    unique: f.unique ?? false,
    caseSensitive: f.caseSensitive ?? false,
    idLookup: f.type === 'id' || (f.externalId ?? false),
    custom: f.custom ?? false,
    calculated: false,
    autoNumber: f.name === 'OrderNumber',
    filterable: true,
    sortable: f.type !== 'textarea',
    groupable: f.type !== 'textarea' && f.type !== 'double' && f.type !== 'currency',
    referenceTo: f.referenceTo ?? [],
    relationshipName: f.type === 'reference' && f.name.endsWith('Id') ? f.name.slice(0, -2) : null,
    picklistValues: (f.picklistValues ?? []).map((v) => ({
      active: true,
      defaultValue: false,
      label: v,
      value: v,
    })),
    defaultValue: null,
    defaultValueFormula: null,
    htmlFormatted: false,
    nameField: f.name === 'Name' || f.name === 'LastName',
    permissionable: f.nillable && f.createable,
  };
}

export function objectUrls(def: ObjectDef, version: string): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${def.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

export function describeGlobalEntry(def: ObjectDef, version: string): Record<string, unknown> {
  return {
    name: def.name,
    label: def.label,
    labelPlural: def.labelPlural,
    keyPrefix: def.keyPrefix,
    custom: false,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    retrieveable: true,
    searchable: true,
    layoutable: true,
    replicateable: true,
    triggerable: true,
    undeletable: true,
    mergeable: def.name !== 'Opportunity' && def.name !== 'Order',
    urls: objectUrls(def, version),
  };
}

export function describeObject(def: ObjectDef, version: string): Record<string, unknown> {
  return {
    ...describeGlobalEntry(def, version),
    fields: def.fields.map(describeField),
    childRelationships: [],
    recordTypeInfos: [],
  };
}
