/**
 * The benchmark's simulator process: Salesforce, SAP and the webhook consumer on ephemeral loopback
 * ports, each answering after BENCH_LATENCY_MS. Reports its URLs over IPC; a `latency` message changes
 * the injected latency; disconnecting stops it. Every arm of a run talks to these same simulators.
 */
import { startAllSimulators } from '../../src/simulators';

async function main(): Promise<void> {
  const latency = Number(process.env.BENCH_LATENCY_MS ?? 20);
  const started = await startAllSimulators({
    ports: { salesforce: 0, sap: 0, webhooks: 0 },
    only: ['salesforce', 'sap', 'webhooks'],
    salesforce: { dailyApiLimit: 1_000_000_000 },
  });
  const sims = started.simulators;
  const cores = [sims.salesforce?.core, sims.sap?.core, sims.webhooks?.core];
  const setLatency = (fixedMs: number) => {
    for (const core of cores) core?.faults.setLatency({ fixedMs, jitterMs: 0 });
  };
  setLatency(latency);
  // The request logs are not needed here and would grow with every flow.
  const clearLogs = setInterval(() => {
    for (const core of cores) core?.requests.clear();
  }, 5_000);
  process.on('message', (msg: { type: string; fixedMs?: number }) => {
    if (msg.type === 'latency' && typeof msg.fixedMs === 'number') {
      setLatency(msg.fixedMs);
      process.send?.({ type: 'latency-set' });
    }
  });
  process.on('disconnect', () => {
    clearInterval(clearLogs);
    void started.stop().finally(() => process.exit(0));
  });
  const by = started.byName;
  process.send?.({
    type: 'ready',
    salesforce: by.salesforce!.url,
    sapEndpoint: by.sap!.endpoint,
    webhook: `${by.webhooks!.url}/hooks/default`,
  });
}

main().catch((err: unknown) => {
  console.error(`bench simulators: ${(err as Error).message}`);
  process.exit(1);
});
