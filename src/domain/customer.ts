import { z } from 'zod';

/**
 * The canonical Customer: what API callers send, validated and normalised once, then mapped to each
 * system. Length limits are SAP's (the narrowest system): a value that does not fit is REJECTED with
 * a message naming the field and the limit, never truncated — a truncated name or street in the ERP
 * is a silent data loss nobody notices until an invoice bounces. See docs/flows/customer-creation.md.
 */
import { charLength, toE164 } from './customer-mapping';
import type { SapCustomerSource } from './customer-mapping';

/**
 * What String.prototype.trim removes, spelled out for the OpenAPI document's patterns (`\\s` differs
 * between regex engines, e.g. for U+FEFF), so a generated client trims exactly as the API does.
 */
const trimmed = '[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]';
/** A pattern for a value the API trims first: `core` with any of that around it. */
const aroundTrimmed = (core: string) => `^${trimmed}*${core}${trimmed}*$`;

const text = (field: string, max: number) =>
  z
    .string()
    .trim()
    .min(1, `${field} must not be empty`)
    .refine((s) => charLength(s) <= max, `${field} must be at most ${max} characters (SAP field length)`)
    .meta({
      maxLength: max,
      // Not only white space: the API trims values, and an empty one is refused.
      pattern: `[^${trimmed.slice(1)}`,
      description: `at most ${max} characters (SAP field length); longer values are rejected`,
    });

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
/** CLDR region codes that name no country (unknown region, EU, UN, eurozone, outlying Oceania). */
const notCountries = new Set(['ZZ', 'EU', 'UN', 'EZ', 'QO']);
function knownCountryCodes(): string[] {
  const codes: string[] = [];
  for (let a = 65; a <= 90; a++)
    for (let b = 65; b <= 90; b++) {
      const c = String.fromCharCode(a, b);
      if (regionNames.of(c) !== c && !notCountries.has(c)) codes.push(c);
    }
  return codes;
}
const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  // abort: the region lookup below throws a RangeError on anything but two letters.
  .regex(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as GB', abort: true })
  .refine((c) => regionNames.of(c) !== c && !notCountries.has(c), 'country is not a known ISO 3166-1 code')
  // The OpenAPI document lists the codes the refinement accepts (as they are sent: upper case).
  .meta({ enum: knownCountryCodes() });

const phone = z
  .string()
  .transform((raw, ctx) => {
    const e164 = toE164(raw);
    if (!e164) {
      ctx.addIssue({
        code: 'custom',
        message: 'phone must be an international number with its country code, e.g. +44 20 7946 0958',
      });
      return z.NEVER;
    }
    return e164;
  })
  // toE164's rule for the OpenAPI document: + or 00, then 7 to 15 digits, separators allowed.
  .meta({
    pattern: '^\\s*(\\+|00)[\\s().\\-/]*[1-9]([\\s().\\-/]*[0-9]){6,14}[\\s().\\-/]*$',
    description: 'an international number with its country code, e.g. +44 20 7946 0958; stored as E.164',
  });

export const addressSchema = z
  .object({
    street: text('address.street', 35),
    city: text('address.city', 35),
    postalCode: text('address.postalCode', 10),
    country: countryCode,
  })
  .strict();

export const customerSchema = z
  .object({
    reference: z
      .string()
      .trim()
      .min(1, 'reference must not be empty')
      .max(80, 'reference must be at most 80 characters')
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'reference may contain letters, digits, ".", "_", ":" and "-"'),
    firstName: text('firstName', 35),
    lastName: text('lastName', 35),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.email('email must be a valid e-mail address'))
      .refine((s) => s.length <= 241, 'email must be at most 241 characters')
      // RFC 5321's limits, which `format: email` in the OpenAPI document carries: at most 64 characters
      // before the @, at most 63 in each label of the domain.
      .refine((s) => {
        const [local = '', domain = ''] = s.split('@');
        return local.length <= 64 && domain.split('.').every((label) => label.length <= 63);
      }, 'email: at most 64 characters before the @ and 63 in each part of the domain')
      // zod's own e-mail rule for the OpenAPI document: `format: email` alone admits more (quoted or
      // unusual local parts such as a|b@example.com) than the API accepts.
      .meta({ format: 'email', pattern: z.regexes.email.source, maxLength: 241 }),
    phone: phone.optional(),
    company: text('company', 35).optional(),
    address: addressSchema,
    /** ISO 639-1 language for correspondence; SAP needs one. */
    language: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'language must be an ISO 639-1 code such as EN')
      // As sent: trimmed and upper-cased by the API first.
      .meta({ pattern: aroundTrimmed('[A-Za-z]{2}') })
      .default('EN'),
    /** ISO 4217 currency for the customer's sales area; SAP copies it from the reference customer when absent. */
    currency: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as GBP')
      .meta({ pattern: aroundTrimmed('[A-Za-z]{3}') })
      .optional(),
  })
  .strict()
  // The combined-name rule below for the OpenAPI document, kept within it: with a company, each name part
  // at most 17 characters always fits "firstName lastName" in 35.
  .meta({
    if: { required: ['company'] },
    then: { properties: { firstName: { maxLength: 17 }, lastName: { maxLength: 17 } } },
  })
  .superRefine((c, ctx) => {
    // With a company, the person's name travels in SAP's second name line (NAME_2, 35 characters).
    const eachFits = charLength(c.firstName) <= 35 && charLength(c.lastName) <= 35;
    if (c.company && eachFits && charLength(`${c.firstName} ${c.lastName}`) > 35) {
      ctx.addIssue({
        code: 'custom',
        path: ['lastName'],
        message: 'with a company, "firstName lastName" must fit in 35 characters (SAP NAME_2)',
      });
    }
  });

export type CustomerInput = z.input<typeof customerSchema>;
export type Customer = z.output<typeof customerSchema>;
/**
 * A Salesforce Account created by a user (the `account.created` event) as an SAP customer source: an
 * organisation with its billing address. Fields SAP requires but the Account lacks are reported, not
 * invented.
 */
export function accountToSapCustomer(
  account: Record<string, unknown>,
): { ok: true; source: SapCustomerSource } | { ok: false; problems: string[] } {
  const str = (k: string) => (typeof account[k] === 'string' ? account[k].trim() : '');
  const parsed = addressSchema.safeParse({
    street: str('BillingStreet'),
    city: str('BillingCity'),
    postalCode: str('BillingPostalCode'),
    country: str('BillingCountry'),
  });
  const problems: string[] = [];
  const name = str('Name');
  if (!name) problems.push('Name is empty');
  else if (charLength(name) > 35) problems.push('Name must be at most 35 characters (SAP NAME1)');
  if (!parsed.success) {
    const billing: Record<string, string> = {
      street: 'BillingStreet',
      city: 'BillingCity',
      postalCode: 'BillingPostalCode',
      country: 'BillingCountry',
    };
    for (const i of parsed.error.issues) {
      const field = billing[String(i.path[0])] ?? 'Billing address';
      problems.push(`${field}: ${i.message.replace(/^address\.\w+ /, '')}`);
    }
  }
  const phone = str('Phone') ? toE164(str('Phone')) : undefined;
  if (problems.length || !parsed.success) return { ok: false, problems };
  return {
    ok: true,
    source: { company: name, address: parsed.data, language: 'EN', ...(phone ? { phone } : {}) },
  };
}

export * from './customer-mapping';
