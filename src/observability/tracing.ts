import { createRequire } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

/**
 * Tracing with OpenTelemetry: one trace per business flow, from the API request that starts it
 * through the workflow and its activities to the outbound HTTP calls of jsforce, soap and axios.
 *
 * - Temporal's `OpenTelemetryPlugin` (client, workflow and activity interceptors) carries the trace
 *   context in Temporal headers from the API's client to the workflow and on to every activity.
 *   Workflow spans leave the sandbox through a sink and are exported only outside replay.
 * - `@opentelemetry/instrumentation-http` traces incoming API requests and every outbound HTTP call.
 *
 * Off by default. Configured by the standard OpenTelemetry variables (validated in src/config.ts):
 * `OTEL_TRACES_EXPORTER=otlp` (or an `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`) switches it on;
 * `OTEL_EXPORTER_OTLP_*` configure the OTLP/HTTP exporter; `OTEL_SERVICE_NAME` names the process;
 * `OTEL_SDK_DISABLED=true` switches it off.
 */

export interface TracingEnv {
  OTEL_SDK_DISABLED?: boolean;
  OTEL_TRACES_EXPORTER?: 'otlp' | 'console' | 'none';
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
}

/** Which exporter the configuration asks for, or undefined when tracing is off. */
export function tracingExporterKind(env: TracingEnv): 'otlp' | 'console' | undefined {
  if (env.OTEL_SDK_DISABLED) return undefined;
  if (env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (env.OTEL_TRACES_EXPORTER) return env.OTEL_TRACES_EXPORTER;
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : undefined;
}

export interface Tracing {
  /** For `Worker.create`, `bundleWorkflowCode` and `new Client`. */
  plugin: OpenTelemetryPlugin;
  provider: NodeTracerProvider;
  /** Flushes pending spans and stops the exporter. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Registers the process-wide tracer provider and the HTTP instrumentation, and returns the Temporal
 * plugin to pass to workers and clients. Once per process (a second call returns the first setup).
 * `spanProcessor` replaces the exporter chosen from the environment (tests use an in-memory one).
 */
export function startTracing(options: {
  serviceName: string;
  env?: TracingEnv;
  spanProcessor?: SpanProcessor;
}): Tracing | undefined {
  if (active) return active;
  let spanProcessor = options.spanProcessor;
  if (!spanProcessor) {
    const kind = tracingExporterKind(options.env ?? {});
    if (!kind) return undefined;
    // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) itself.
    spanProcessor =
      kind === 'otlp'
        ? new BatchSpanProcessor(new OTLPTraceExporter())
        : new SimpleSpanProcessor(new ConsoleSpanExporter());
  }
  const resource = new Resource({
    [ATTR_SERVICE_NAME]: options.env?.OTEL_SERVICE_NAME ?? options.serviceName,
  });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Scrapes and health checks are not business traffic.
        ignoreIncomingRequestHook: (req) => req.url === '/metrics' || req.url === '/healthz',
      }),
    ],
  });
  // The instrumentation patches `http`/`https` when they are required: require them once now, so
  // modules that imported them earlier (axios, node-fetch under jsforce, Fastify) see the patch.
  const load = createRequire(__filename);
  load('node:http');
  load('node:https');
  active = {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    provider,
    shutdown: async () => {
      await provider.shutdown();
    },
  };
  return active;
}
