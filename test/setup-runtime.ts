import { DefaultLogger, Runtime } from '@temporalio/worker';

// Quiet by default: worker state changes and activity retry warnings are expected in tests.
// TEST_LOG_LEVEL=WARN, INFO or DEBUG shows them when a test needs reading.
const level = (process.env.TEST_LOG_LEVEL ?? 'ERROR') as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
try {
  Runtime.install({ logger: new DefaultLogger(level) });
} catch {
  // Already installed in this process (watch mode re-runs).
}
