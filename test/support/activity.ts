import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { expect } from 'vitest';

// Failed activities log a warning; expected in these tests, so quiet unless TEST_LOG_LEVEL asks for them.
const logger = new DefaultLogger(
  (process.env.TEST_LOG_LEVEL ?? 'ERROR') as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR',
);

/**
 * Runs one activity call in a fresh Temporal activity context with the given attempt number: the
 * activity code and its client are real, only the context (attempt, heartbeats) is the test's.
 */
export function runInActivity<R>(attempt: number, call: () => Promise<R>): Promise<R> {
  return new MockActivityEnvironment({ attempt }, { logger }).run(call);
}

/** The ApplicationFailure the call rejected with (fails the test if it resolved or threw something else). */
export async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await call.then(
    (value) => ({ resolved: value }),
    (err: unknown) => ({ rejected: err }),
  );
  expect(outcome).toHaveProperty('rejected');
  const err = (outcome as { rejected: unknown }).rejected;
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}
