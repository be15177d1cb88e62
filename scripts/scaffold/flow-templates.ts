/**
 * The files `npm run new:flow <name>` writes: a one-shot flow started under a business key that announces
 * its outcome to the webhook subscribers (signed, with a stable webhook-id), its messages file, a test on
 * a real Temporal server with the real workers and simulators, and its doc page; and its entries in the
 * flows registry and in the start specs (its input schema: startable by `POST /v1/flows/<type>/runs`).
 */
export interface FlowNames {
  /** `order-archive`: file names, the IntegrationFlow value, the event type prefix. */
  kebab: string;
  /** `orderArchive`: the workflow type (the exported function). */
  camel: string;
  /** `OrderArchive`: type names. */
  pascal: string;
}

export function flowMessages({ kebab, camel, pascal }: FlowNames): string {
  return `import type { SearchAttributePair } from '@temporalio/common';
import type { DeliveryOutcome } from './notification-delivery.messages';
import { BusinessKey, IntegrationFlow } from './shared/search-attributes';

export const ${camel}WorkflowType = '${camel}';

/** One run per business reference: the business key is the workflow id. */
export function ${camel}WorkflowId(reference: string): string {
  return \`${kebab}:\${reference}\`;
}

export interface ${pascal}Input {
  reference: string;
  data: Record<string, unknown>;
}

export interface ${pascal}Result {
  eventType: '${kebab}.completed';
  deliveries: DeliveryOutcome[];
}

/** Start options every starter uses: id from the business key, searchable at once. */
export function ${camel}StartOptions(input: ${pascal}Input, taskQueue: string) {
  return {
    workflowId: ${camel}WorkflowId(input.reference),
    taskQueue,
    typedSearchAttributes: [
      { key: IntegrationFlow, value: '${kebab}' },
      { key: BusinessKey, value: input.reference },
    ] as SearchAttributePair[],
    staticSummary: \`${kebab} \${input.reference}\`,
  };
}
`;
}

/** The flow's start spec (src/runs/start-specs.ts): its input schema, one run per reference. */
export function flowStartSpec({ kebab, camel }: FlowNames): string {
  return `  ${camel}: startable({
    summary: 'Announce ${kebab}.completed for a business reference',
    scope: 'flows:start',
    body: z
      .object({
        reference: z
          .string()
          .min(1)
          .max(80)
          .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'reference may contain letters, digits, ".", "_", ":" and "-"'),
        data: z.record(z.string(), z.unknown()),
      })
      .strict(),
    names: { input: 'the ${kebab} request', key: '${kebab} reference' },
    identity: { kind: 'business-key', workflowId: (b) => ${camel}WorkflowId(b.reference) },
    businessKey: (b) => b.reference,
    input: (b) => b,
    staticSummary: (b) => \`${kebab} \${b.reference}\`,
  }),
`;
}

export function flowWorkflow({ kebab, camel, pascal }: FlowNames): string {
  return `import { workflowInfo } from '@temporalio/workflow';
import type { ${pascal}Input, ${pascal}Result } from './${kebab}.messages';
import { publishEvent } from './shared/publish-event';
import { activityQueueFor } from './shared/task-queues';

/**
 * ${pascal}: announces \`${kebab}.completed\` for a business reference to the webhook subscribers. Add the
 * flow's steps before the announcement, each through \`activitiesOf(system, options)\`
 * (src/workflows/shared/proxies.ts), registering an undo before each create.
 */
export async function ${camel}(input: ${pascal}Input): Promise<${pascal}Result> {
  const eventType = '${kebab}.completed';
  const deliveries = await publishEvent(activityQueueFor(workflowInfo().taskQueue, 'webhooks'), {
    sourceKey: workflowInfo().workflowId,
    type: eventType,
    data: { reference: input.reference, ...input.data },
    // Workflow time: deterministic on replay.
    occurredAt: new Date().toISOString(),
  });
  return { eventType, deliveries };
}
`;
}

export function flowTest({ kebab, camel }: FlowNames): string {
  return `import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveRun } from '../../src/runs/redrive';
import { startApi } from '../support/api';
import { ${camel}StartOptions } from '../../src/workflows/${kebab}.messages';
import type { ${camel} } from '../../src/workflows/${kebab}';
import { taskQueueName } from '../../src/workflows/shared/task-queues';
import { startIntegrationEnvironment } from '../support/environment';
import type { IntegrationEnvironment } from '../support/environment';
import { connectTemporal, uniquePrefix, waitFor } from '../support/temporal';
import type { TemporalTestContext } from '../support/temporal';

describe('${camel} on a real Temporal server with the real workers and simulators', () => {
  let t: TemporalTestContext;
  let env: IntegrationEnvironment;
  beforeAll(async () => {
    t = await connectTemporal();
    env = await startIntegrationEnvironment(t);
  });
  afterAll(async () => {
    await env?.stop();
    await t?.close();
  });

  it('announces ${kebab}.completed to the subscribers, signed, once, and a completed run has nothing to redrive', async () => {
    const prefix = uniquePrefix('${kebab}');
    const input = { reference: uniquePrefix('ref'), data: { note: 'generated' } };
    const workflowQueue = taskQueueName(prefix, 'coordinator');
    await env.withWorkers(prefix, async () => {
      const result = await t.client.workflow.execute<typeof ${camel}>('${camel}', {
        ...${camel}StartOptions(input, workflowQueue),
        args: [input],
      });
      expect(result.deliveries).toEqual([expect.objectContaining({ subscriber: 'consumer', status: 'delivered' })]);
      const received = env.webhooks
        .deliveries({ type: '${kebab}.completed' })
        .filter((d) => (d.body as { data?: { reference?: string } }).data?.reference === input.reference);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ verified: true, status: 200, webhookId: result.deliveries[0]!.webhookId });
      await expect(redriveRun(t.client, { workflowQueue }, \`${kebab}:\${input.reference}\`)).rejects.toMatchObject({
        code: 'nothing_to_redrive',
      });
    });
  });

  it('is started by POST /v1/flows/${camel}/runs with its input, validated by its schema', async () => {
    const prefix = uniquePrefix('${kebab}-api');
    const api = await startApi(t.client, { taskQueuePrefix: prefix });
    try {
      await env.withWorkers(prefix, async () => {
        const input = { reference: uniquePrefix('ref'), data: { note: 'over http' } };
        const started = await api.call('POST', '/v1/flows/${camel}/runs', input);
        expect(started.status).toBe(202);
        expect(started.body.workflowId).toBe(\`${kebab}:\${input.reference}\`);
        const done = await waitFor('the run to complete', async () => {
          const res = await api.call('GET', started.body.statusUrl);
          return res.body.status === 'COMPLETED' ? res : undefined;
        });
        expect(done.body.result.deliveries).toEqual([expect.objectContaining({ status: 'delivered' })]);
        const again = await api.call('POST', '/v1/flows/${camel}/runs', input);
        expect(again.body).toMatchObject({ runId: started.body.runId, existing: true });
        const invalid = await api.call('POST', '/v1/flows/${camel}/runs', { reference: 'has spaces' });
        expect(invalid.status).toBe(400);
        expect(invalid.body.details.map((d: { path: string }) => d.path)).toEqual(['reference', 'data']);
      });
    } finally {
      await api.close();
    }
  });
});
`;
}

export function flowDoc({ kebab, camel }: FlowNames): string {
  return `# ${kebab}

Generated by \`npm run new:flow ${kebab}\`: \`src/workflows/${kebab}.ts\` (workflow type \`${camel}\`),
\`src/workflows/${kebab}.messages.ts\` (input, result, workflow id \`${kebab}:<reference>\`, start options),
registered in \`src/workflows/index.ts\`, in the flows registry (\`src/workflows/workflow-types.ts\`:
one-shot, redriven by a restart with the same input) and in the start specs (\`src/runs/start-specs.ts\`:
its input schema, one run per reference; started by \`POST /v1/flows/${camel}/runs\`), tested in
\`test/workflows/${kebab}.test.ts\`.

Today it announces \`${kebab}.completed\` to the webhook subscribers. Describe here what the flow is for,
its steps and compensations (a sequence diagram), its failure matrix and retry policies, and how to find
a run (\`IntegrationFlow = '${kebab}'\`, \`BusinessKey\`), in the shape of [customer-creation.md](customer-creation.md).
`;
}
