/**
 * The engine-floor worker of the flow-cost and CDC benchmarks: the workflows of floor-workflow.ts on
 * BENCH_FLOOR_QUEUE, against TEMPORAL_ADDRESS, with SDK-default options like the project's worker.
 */
import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { resolve } from 'node:path';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.BENCH_FLOOR_QUEUE ?? 'bench-floor',
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: resolve(__dirname, 'floor-workflow.ts'),
      logger: new DefaultLogger('WARN'),
    }),
    activities: { noop: async () => undefined },
  });
  process.on('disconnect', () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  process.send?.({ type: 'ready' });
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(`floor worker: ${(err as Error).message}`);
  process.exit(1);
});
