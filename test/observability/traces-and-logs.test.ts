import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '../../src/observability/tracing';
import type { Tracing } from '../../src/observability/tracing';
import { bundleWorkflows } from '../../src/workers/worker-set';
import { settleRun, startApi } from '../support/api';
import { customerBody } from '../support/customer';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { captureLogs } from '../support/logs';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

/** Personal data of a marker customer: none of it may appear in any log line. */
const marker = {
  firstName: 'Quorvina',
  lastName: 'Zelkowitz',
  email: 'quorvina.zelkowitz@example.org',
  phone: '+44 20 7946 0321',
  street: '77 Marigold Crescent',
};

/** The marker customer; its company name carries the marker too, so a logged company is caught. */
function customer(label: string, country = 'GB') {
  const { street, ...person } = marker;
  const body = customerBody(label, {
    ...person,
    address: { street, city: 'London', postalCode: 'SW1Y 4JH', country },
  });
  return { ...body, company: `Zelkowitz Trading ${body.reference.slice(-8)}` };
}

describe('traces and logs of a customer flow', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: Awaited<ReturnType<IntegrationEnvironment['startWorkers']>>;
  let logs: ReturnType<typeof captureLogs>;
  const prefix = uniquePrefix('trace');

  beforeAll(async () => {
    tracing = startTracing({
      serviceName: 'integration-test',
      spanProcessor: new SimpleSpanProcessor(exporter),
    })!;
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
    const plugins = [tracing.plugin];
    workers = await env.startWorkers(prefix, undefined, {
      plugins,
      workflowBundle: await bundleWorkflows(plugins),
    });
    logs = captureLogs('debug');
    const client = new Client({
      connection: t.client.connection,
      namespace: t.namespace,
      plugins,
      dataConverter: t.dataConverter,
    });
    api = await startApi(client, {
      taskQueuePrefix: prefix,
      notificationRetry: { initialInterval: '100ms', maximumAttempts: 2 },
      loggerInstance: logs.apiLogger,
    });
  });
  afterAll(async () => {
    logs?.stop();
    await api?.close();
    await workers?.stop();
    await env?.stop();
    await t?.close();
  });

  const runFlow = async (body: ReturnType<typeof customer>) => {
    const res = await api.call('POST', '/v1/customers', body);
    expect(res.status).toBe(202);
    const done = (await settleRun(api, res.body.statusUrl)).body;
    return { workflowId: res.body.workflowId as string, runId: done.runId as string, status: done.status };
  };

  it('one trace per flow: API request -> StartWorkflow -> RunWorkflow -> RunActivity -> outbound HTTP, and replay adds no span', async () => {
    const { workflowId, runId, status } = await runFlow(customer('tr'));
    expect(status).toBe('COMPLETED');

    const spans = () => exporter.getFinishedSpans();
    const byId = (s: ReadableSpan) => s.spanContext().spanId;
    const start = await waitFor('the StartWorkflow span', () =>
      spans().find(
        (s) => s.name === 'StartWorkflow:customerCreation' && s.attributes.temporalWorkflowId === workflowId,
      ),
    );
    const traceId = start.spanContext().traceId;
    const inTrace = () => spans().filter((s) => s.spanContext().traceId === traceId);
    await waitFor('the workflow span', () =>
      inTrace().some((s) => s.name === 'RunWorkflow:customerCreation'),
    );

    // The API request's server span is the root; StartWorkflow is inside it.
    const server = inTrace().find((s) => s.kind === SpanKind.SERVER);
    expect(server, 'HTTP server span of POST /v1/customers').toBeDefined();
    expect(server!.parentSpanId).toBeUndefined();
    const parentOf = (s: ReadableSpan) => inTrace().find((p) => byId(p) === s.parentSpanId);
    const ancestors = (s: ReadableSpan): string[] => {
      const p = parentOf(s);
      return p ? [p.name, ...ancestors(p)] : [];
    };
    expect(ancestors(start)).toContain(server!.name);

    const run = inTrace().find((s) => s.name === 'RunWorkflow:customerCreation')!;
    expect(ancestors(run)).toContain('StartWorkflow:customerCreation');
    for (const activity of [
      'upsertAccount',
      'createCustomer',
      'setAccountSapCustomerNumber',
      'deliverWebhook',
    ]) {
      const span = inTrace().find((s) => s.name === `RunActivity:${activity}`);
      expect(span, `RunActivity:${activity}`).toBeDefined();
      expect(ancestors(span!)).toContain('RunWorkflow:customerCreation');
      // The outbound HTTP of jsforce (Salesforce), soap (SAP) and axios (webhooks) is inside it.
      const outbound = inTrace().filter((s) => s.kind === SpanKind.CLIENT && s.parentSpanId === byId(span!));
      expect(outbound.length, `HTTP client spans under RunActivity:${activity}`).toBeGreaterThan(0);
    }
    // Every span of the flow shares the one trace: no orphan workflow or activity spans elsewhere.
    // (Status polls of the API are requests of their own, with their own traces.)
    const flowSpans = spans().filter(
      (s) =>
        s.attributes.temporalWorkflowId === workflowId &&
        /^(StartWorkflow|RunWorkflow|StartActivity|RunActivity)/.test(s.name),
    );
    expect(flowSpans.length).toBeGreaterThan(5);
    expect(new Set(flowSpans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));

    // Replaying the run's history with the same plugin exports nothing new.
    const before = spans().length;
    const history = await t.client.workflow.getHandle(workflowId, runId).fetchHistory();
    await Worker.runReplayHistory(
      {
        workflowBundle: await bundleWorkflows([tracing.plugin]),
        plugins: [tracing.plugin],
        dataConverter: t.dataConverter,
      },
      history,
      workflowId,
    );
    await tracing.provider.forceFlush();
    expect(spans().length).toBe(before);
  });

  it('every recorded history (runs started without tracing) replays with tracing on', async () => {
    const dir = resolve(__dirname, '../histories');
    const bundle = await bundleWorkflows([tracing.plugin]);
    const before = exporter.getFinishedSpans().length;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const history = JSON.parse(readFileSync(join(dir, file), 'utf8')) as never;
      await Worker.runReplayHistory(
        // With the workers' payload codec, as test/replay does: histories recorded from runs with the
        // codec on carry encrypted payloads; older ones are unencoded and pass through it.
        {
          workflowBundle: bundle,
          plugins: [tracing.plugin],
          replayName: file,
          dataConverter: t.dataConverter,
        },
        history,
      );
    }
    expect(exporter.getFinishedSpans().length).toBe(before);
  });

  it('logs JSON lines with workflowId, runId and traceId, and none of the customer’s personal data', async () => {
    const rejected = await runFlow(customer('trrej', 'IS'));
    expect(rejected.status).toBe('FAILED');
    const ok = await runFlow(customer('trok'));
    expect(ok.status).toBe('COMPLETED');

    const parsed = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    if (process.env.DBG)
      for (const e of parsed) console.log(e.service, e.sdkComponent, e.msg, e.workflowId, e.runId, e.traceId);
    expect(parsed.length).toBeGreaterThan(10);
    for (const entry of parsed) {
      expect(entry).toMatchObject({
        level: expect.any(String),
        time: expect.any(String),
        service: expect.any(String),
      });
    }
    const ours = parsed.filter((e) => e.workflowId === rejected.workflowId || e.workflowId === ok.workflowId);
    expect(ours.some((e) => e.msg === 'Workflow failed')).toBe(true);
    expect(ours.filter((e) => e.msg === 'Activity completed' && e.activityType).length).toBeGreaterThan(5);
    for (const entry of ours) {
      expect(entry.runId, JSON.stringify(entry)).toEqual(expect.any(String));
      // The SDK logs "... started" before the run's interceptors have read its trace header.
      if (!/ started$/.test(String(entry.msg))) {
        expect(entry.traceId, JSON.stringify(entry)).toMatch(/^[0-9a-f]{32}$/);
      }
    }
    // API request lines carry the request's trace.
    const apiLines = parsed.filter((e) => e.service === 'integration-api' && e.req !== undefined);
    expect(apiLines.length).toBeGreaterThan(0);
    for (const entry of apiLines) expect(entry.traceId).toMatch(/^[0-9a-f]{32}$/);

    const all = logs.lines.join('\n');
    // The phone also in the forms a formatter could give it (digits only, other separators). Not a bare
    // '7946': four digits turn up by chance in hex trace, span and run ids (a run failed on that).
    const phoneForms = ['7946 0321', '79460321', '442079460321', '7946-0321', '7946.0321'];
    for (const value of [...Object.values(marker), 'quorvina', 'zelkowitz@', ...phoneForms]) {
      expect(all.toLowerCase()).not.toContain(value.toLowerCase());
    }
  });
});
