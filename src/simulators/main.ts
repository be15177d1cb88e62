/**
 * `npm run simulators`: every simulator on loopback with its dev credentials, until SIGINT/SIGTERM.
 *
 * Env: SIM_HOST (127.0.0.1), SIM_SALESFORCE_PORT (4010), SIM_SAP_PORT (4020), SIM_WEBHOOK_PORT (4030),
 * SIM_INVENTORY_PORT (4040), SIM_BILLING_PORT (4050); optional SIM_<SALESFORCE|SAP|INVENTORY>_EVENTS_URL with
 * SIM_<SOURCE>_EVENTS_SECRET (or one SIM_EVENTS_SECRET) to send each source's signed change events
 * somewhere (e.g. the API's /webhooks/<source>).
 *
 * Reads process.env directly: simulators share no code with the coordinator, its config included.
 */
import { DEFAULT_SIMULATOR_PORTS, SIMULATOR_PORT_ENV, startAllSimulators } from './index';
import type { SimulatorName, StartAllOptions, StartedSimulators } from './index';

class UsageError extends Error {}

function optionsFromEnv(env: NodeJS.ProcessEnv): StartAllOptions {
  const ports: Partial<Record<SimulatorName, number>> = {};
  for (const [name, variable] of Object.entries(SIMULATOR_PORT_ENV) as [SimulatorName, string][]) {
    const raw = env[variable];
    if (raw === undefined || raw === '') {
      ports[name] = DEFAULT_SIMULATOR_PORTS[name];
      continue;
    }
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`${variable}=${raw} is not a port number (0-65535)`);
    }
    ports[name] = port;
  }
  // Where each source simulator sends its change events (e.g. the API's /webhooks/<source>), signed
  // with its secret. Unset: the simulator records its events but sends none.
  const events = (source: 'SALESFORCE' | 'SAP' | 'INVENTORY') => {
    const url = env[`SIM_${source}_EVENTS_URL`];
    const secret = env[`SIM_${source}_EVENTS_SECRET`] || env.SIM_EVENTS_SECRET;
    if (url && !secret) {
      throw new UsageError(`SIM_${source}_EVENTS_URL needs SIM_${source}_EVENTS_SECRET or SIM_EVENTS_SECRET`);
    }
    return url && secret ? { events: { url, secret } } : undefined;
  };
  return {
    host: env.SIM_HOST || '127.0.0.1',
    ports,
    salesforce: events('SALESFORCE'),
    sap: events('SAP'),
    inventory: events('INVENTORY'),
  };
}

async function main(): Promise<void> {
  const options = optionsFromEnv(process.env);
  let started: StartedSimulators;
  try {
    started = await startAllSimulators(options);
  } catch (err) {
    // listen() names the simulator, host and port when the port is taken.
    console.error(`simulators: ${(err as Error).message}`);
    process.exit(1);
  }

  const width = Math.max(...started.handles.map((h) => h.name.length));
  console.log('simulators running:');
  for (const h of started.handles) {
    console.log(`  ${h.name.padEnd(width)}  ${h.endpoint}`);
    console.log(`  ${''.padEnd(width)}  ${h.credentials}`);
    console.log(`  ${''.padEnd(width)}  admin ${h.adminUrl}`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`simulators: ${signal}, stopping`);
    started.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`simulators: stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(
    `simulators: ${err instanceof UsageError ? err.message : String((err as Error).stack ?? err)}`,
  );
  process.exit(1);
});
