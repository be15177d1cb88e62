/**
 * Child process of `bundleWorkflowsInChild` (src/workers/workflow-bundle.ts): bundles the workflow code,
 * writes it to the file the parent names, tells the parent over IPC, then exits, taking webpack's
 * memory with it.
 */
import { writeFile } from 'node:fs/promises';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { BundleRequest, BundleReply } from './workflow-bundle';
import { bundleWorkflows } from './worker-set';

process.once('message', (request: BundleRequest) => {
  // At bundle time the tracing plugin contributes only its workflow interceptor module; its exporter
  // and resource are the worker's, configured there.
  const plugins = request.tracing
    ? [new OpenTelemetryPlugin({ resource: Resource.empty(), spanProcessor: new NoopSpanProcessor() })]
    : [];
  bundleWorkflows(plugins, request.instrumentation)
    .then((bundle) => writeFile(request.outFile, bundle.code, 'utf8'))
    .then(() => {
      const reply: BundleReply = { ok: true };
      process.send!(reply, () => process.exit(0));
    })
    .catch((err: unknown) => {
      const reply: BundleReply = { ok: false, error: (err as Error).stack ?? String(err) };
      process.send!(reply, () => process.exit(1));
    });
});
