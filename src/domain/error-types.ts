import { systemCatalog, systemNames } from '../systems/catalog';
import type { SystemErrorType } from '../systems/catalog';

/**
 * The catalogue of failure types. Every ApplicationFailure the project raises uses one of these strings
 * as its `type` (never a class name, which bundling can change); operators search for them and retry
 * policies list the non-retryable ones. docs/operations.md explains each one.
 *
 * Each system's permanent types are listed with the system in src/systems/catalog.ts; the types every
 * system shares are here.
 */
const sharedErrorTypes = {
  // Input
  InvalidInput: 'InvalidInput',
  // Transient (retryable)
  SystemUnavailable: 'SystemUnavailable',
  RateLimited: 'RateLimited',
  Timeout: 'Timeout',
  // Configuration / programming errors that retrying cannot fix
  Misconfigured: 'Misconfigured',
} as const;

/** Every system's permanent types, in the catalogue's order of systems. */
const systemErrorTypes: readonly SystemErrorType[] = systemNames.flatMap((s) => systemCatalog[s].errorTypes);

export const ErrorType = {
  ...sharedErrorTypes,
  ...(Object.fromEntries(systemErrorTypes.map((t) => [t, t])) as { readonly [T in SystemErrorType]: T }),
};

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Types that must never be retried: they are business rejections or bad input. */
export const nonRetryableErrorTypes: ErrorTypeName[] = [
  ErrorType.InvalidInput,
  ...systemErrorTypes,
  ErrorType.Misconfigured,
];
