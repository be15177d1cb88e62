import type * as CustomerValidation from '../../domain/customer';

/**
 * The customer validation module (zod and the schemas, src/domain/customer.ts), loaded the first time a
 * run needs it rather than when the workflow bundle is evaluated. With the reusable V8 context every
 * workflow start evaluates the bundle's modules for itself; zod and the schemas were about three
 * quarters of that, paid by every entity and notification workflow that never validates a customer.
 * Workflow code only: the bundler resolves this require inside the bundle.
 */
export function customerValidation(): typeof CustomerValidation {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return require('../../domain/customer') as typeof CustomerValidation;
}
