import { Runtime } from '@temporalio/worker';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { temporalLogger } from '../src/observability/logging';
import { workerMetricsTelemetry } from '../src/observability/worker-telemetry';
import { testLogSink } from './support/logs';

// Quiet by default: worker state changes and activity retry warnings are expected in tests.
// TEST_LOG_LEVEL=WARN, INFO or DEBUG shows them when a test needs reading.
const level = (process.env.TEST_LOG_LEVEL ?? 'ERROR').toLowerCase();

/** A free loopback port for this test file's worker metrics endpoint. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

try {
  // The production metrics exporter on a free port: tests read the workers' business metrics from it
  // (TEST_WORKER_METRICS_URL), as Prometheus would.
  const port = await freePort();
  Runtime.install({
    // The production JSON logger, at TEST_LOG_LEVEL on stderr; a test can capture it (support/logs.ts).
    logger: temporalLogger(testLogSink(level).workerLogger, 'DEBUG'),
    telemetryOptions: { metrics: workerMetricsTelemetry(`127.0.0.1:${port}`) },
  });
  process.env.TEST_WORKER_METRICS_URL = `http://127.0.0.1:${port}/metrics`;
} catch {
  // Already installed in this process (watch mode re-runs).
}
