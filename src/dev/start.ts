import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { devAccessKey, devAccessKeys, loadConfigOrExit } from '../config';
import type { Config } from '../config';
import { DEV_BILLING_SECRET_KEY as devBillingKey } from '../simulators/billing';
import { systemCatalog, systemNames } from '../systems/catalog';
import type { SystemName } from '../systems/catalog';
import { allSearchAttributes } from '../workflows/shared/search-attributes';
import { devServerArgs, devServerTuningArgs } from './dev-server';
import { assertPortFree, httpOk, startProcess, stopProcess, temporalAnswers, waitUntil } from './processes';
import type { ManagedProcess } from './processes';
import { resolveTemporalExecutable } from './temporal-binary';
import { workerNodeFlags } from '../workers/main-thread-heap';

/**
 * `npm start`: the whole system on loopback for a laptop. A Temporal dev server with its Web UI
 * (persisted to .data/ so runs survive a restart), the simulators, the worker, the API and the Salesforce
 * CDC subscriber, each a child process. Ctrl-C stops them in order: CDC subscriber, API and worker first
 * (the worker drains), then the simulators, then Temporal.
 */
export const devApiToken = 'dev-api-token-local-only';

/**
 * Each simulator's line in the banner: the path a client uses and the dev credentials. A record over
 * every system: a new one without a line does not compile.
 */
const bannerOf = {
  salesforce: () => '   client dev-client / dev-secret',
  sap: () => '/sap/bc/soap/rfc   DEV_USER / dev-password',
  webhooks: () => '/hooks/default',
  inventory: () => '   x-api-key: dev-inventory-key',
  billing: (config) =>
    `   Bearer ${config.BILLING_SECRET_KEY === devBillingKey ? devBillingKey : '(from BILLING_SECRET_KEY)'}${config.BILLING_ENABLED ? '' : '  (billing step off: BILLING_ENABLED=false)'}`,
} satisfies Record<SystemName, (config: Config) => string>;

const root = resolve(__dirname, '../..');
const tsxArgs = (file: string) => ['--import', 'tsx', resolve(root, file)];

async function main(): Promise<void> {
  const startedAt = Date.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    API_TOKEN: process.env.API_TOKEN ?? devApiToken,
    // One printed development key with every scope (the codec server's; docs/security.md).
    ACCESS_KEYS: process.env.ACCESS_KEYS || devAccessKeys(),
    // The laptop runs the whole system, billing included; BILLING_ENABLED=false leaves it out.
    BILLING_ENABLED: process.env.BILLING_ENABLED || 'true',
  };
  const config = loadConfigOrExit(env, { forApi: true, forCodecServer: true });
  const host = '127.0.0.1';
  const simPort = (system: SystemName) => config[systemCatalog[system].simulator.portVariable];
  const temporalAddress = `${host}:${config.TEMPORAL_DEV_PORT}`;
  const codecUrl = `http://${config.CODEC_SERVER_HOST}:${config.CODEC_SERVER_PORT}`;
  // The dev UI sends no credentials over http, so its endpoint carries the key in its path; with keys
  // of one's own (ACCESS_KEYS set), enter `<codec url>/k/<your key>` in the UI's codec settings instead.
  const devKeyInUse = !process.env.ACCESS_KEYS;
  const uiCodecEndpoint = devKeyInUse ? `${codecUrl}/k/${devAccessKey}` : undefined;

  const ports: [number, string][] = [
    [config.TEMPORAL_DEV_PORT, 'Temporal gRPC, TEMPORAL_DEV_PORT'],
    [config.API_PORT, 'API, API_PORT'],
    ...systemNames.map((system): [number, string] => [
      simPort(system),
      `${systemCatalog[system].title} simulator, ${systemCatalog[system].simulator.portVariable}`,
    ]),
    [config.CODEC_SERVER_PORT, 'codec server, CODEC_SERVER_PORT'],
  ];
  if (!config.TEMPORAL_DEV_HEADLESS)
    ports.push([config.TEMPORAL_DEV_UI_PORT, 'Temporal Web UI, TEMPORAL_DEV_UI_PORT']);
  for (const [port, what] of ports) await assertPortFree(host, port, what);

  const children: ManagedProcess[] = [];
  let stopSdkServer: (() => Promise<void>) | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping: api, worker, simulators, then Temporal...');
    const temporal = children.find((p) => p.name === 'temporal');
    await Promise.all(
      children
        .filter((p) => p !== temporal)
        .reverse()
        .map((p) => stopProcess(p)),
    );
    if (temporal) await stopProcess(temporal);
    await stopSdkServer?.();
    console.log('stopped.');
    process.exit(code);
  };
  // `on`, not `once`: Ctrl-C reaches the launcher twice (from the terminal and relayed by npm/tsx), and a
  // second signal without a handler would kill it mid-shutdown and orphan the Temporal server.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // Last resort if the launcher itself crashes: no orphaned children.
  process.once('exit', () => {
    for (const p of children)
      if (p.child.pid && p.child.exitCode === null) process.kill(-p.child.pid, 'SIGKILL');
  });
  const watch = (p: ManagedProcess) =>
    void p.exited.then((code) => {
      if (!stopping) {
        console.error(`${p.name} exited unexpectedly (code ${code}); stopping everything`);
        void stopAll(1);
      }
    });

  // 1. Temporal dev server: the CLI binary found or built by scripts/temporal-cli.sh, or else the SDK's
  // own download of it (machines with internet access).
  const executable = resolveTemporalExecutable();
  const dbFile = resolve(root, config.TEMPORAL_DEV_DB_FILE);
  mkdirSync(dirname(dbFile), { recursive: true });
  if (executable.type === 'existing-path') {
    const temporalArgs = devServerArgs({
      host,
      port: config.TEMPORAL_DEV_PORT,
      dbFile,
      uiPort: config.TEMPORAL_DEV_HEADLESS ? undefined : config.TEMPORAL_DEV_UI_PORT,
      searchAttributes: allSearchAttributes,
      uiCodecEndpoint,
    });
    const temporal = startProcess('temporal', executable.path, temporalArgs, env);
    children.push(temporal);
    watch(temporal);
  } else {
    console.log(
      'No Temporal CLI here and no Go to build one: asking the Temporal SDK to download the dev server...',
    );
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    try {
      const sdkServer = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'cached-download' },
          ip: host,
          port: config.TEMPORAL_DEV_PORT,
          dbFilename: dbFile,
          extraArgs: [
            ...devServerTuningArgs(true),
            ...(uiCodecEndpoint && !config.TEMPORAL_DEV_HEADLESS
              ? ['--ui-codec-endpoint', uiCodecEndpoint]
              : []),
          ],
          ui: !config.TEMPORAL_DEV_HEADLESS,
          uiPort: config.TEMPORAL_DEV_UI_PORT,
          searchAttributes: [...allSearchAttributes],
        },
      });
      stopSdkServer = () => sdkServer.teardown();
    } catch (err) {
      throw new Error(
        `the Temporal dev server could not be downloaded (${(err as Error).message}). Install the Temporal CLI ` +
          '(https://docs.temporal.io/cli#install) and put it on PATH or in TEMPORAL_CLI_PATH, or install Go so ' +
          'scripts/temporal-cli.sh can build it; then run npm start again',
      );
    }
  }
  await waitUntil('Temporal', () => temporalAnswers(temporalAddress), 30_000);

  // 2. Simulators, worker and API, all against that server.
  const childEnv = {
    ...env,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: `http://${host}:${config.TEMPORAL_DEV_UI_PORT}`,
    // Fewer malloc arenas in the worker's many threads: less resident memory (docs/configuration.md).
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2',
    SIM_HOST: host,
    ...Object.fromEntries(
      systemNames.map((system) => [systemCatalog[system].simulator.portVariable, String(simPort(system))]),
    ),
    // SAP and the inventory simulator send their change events to the API's ingress, signed with the
    // secrets the API verifies. Salesforce changes come as real Salesforce sends them: change events on
    // the simulator's Pub/Sub API, read by the CDC subscriber started below (no webhook relay, which
    // would hand every change over twice).
    SIM_SAP_EVENTS_URL: `http://${config.API_HOST}:${config.API_PORT}/webhooks/sap`,
    SIM_SAP_EVENTS_SECRET: config.SAP_EVENTS_SECRET,
    SIM_INVENTORY_EVENTS_URL: `http://${config.API_HOST}:${config.API_PORT}/webhooks/inventory`,
    SIM_INVENTORY_EVENTS_SECRET: config.INVENTORY_EVENTS_SECRET,
  };
  for (const [name, file] of [
    ['simulators', 'src/simulators/main.ts'],
    ['worker', 'src/workers/main.ts'],
    ['api', 'src/api/server.ts'],
    ['codec-server', 'src/security/codec-server-main.ts'],
  ] as const) {
    // The worker's main-thread heap is a node flag (src/workers/main-thread-heap.ts).
    const nodeFlags =
      name === 'worker' ? workerNodeFlags(config.WORKER_MAIN_SEMI_SPACE_MB, env.NODE_OPTIONS) : [];
    const p = startProcess(name, process.execPath, [...nodeFlags, ...tsxArgs(file)], childEnv);
    children.push(p);
    watch(p);
  }
  const apiUrl = `http://${config.API_HOST}:${config.API_PORT}`;
  await waitUntil(
    'the simulators',
    async () => {
      for (const system of systemNames)
        if (!(await httpOk(`http://${host}:${simPort(system)}/__admin/faults`))) return false;
      return true;
    },
    30_000,
  );
  await waitUntil('the API', async () => (await fetch(`${apiUrl}/healthz`)).status === 200, 30_000);
  await waitUntil('the codec server', () => httpOk(`${codecUrl}/healthz`), 30_000);

  // 3. The Salesforce CDC subscriber, a process of its own (one stream per channel; docs/flows/event-sync.md),
  // on the simulator's Pub/Sub API, trusting the certificate the simulator made at its start.
  const pubSub = (await (await fetch(`http://${host}:${simPort('salesforce')}/__admin/pubsub`)).json()) as {
    endpoint?: string;
    caCertificate?: string;
  };
  if (!pubSub.endpoint || !pubSub.caCertificate)
    throw new Error('the Salesforce simulator does not report its Pub/Sub endpoint');
  const caFile = resolve(dirname(dbFile), 'salesforce-pubsub-ca.pem');
  writeFileSync(caFile, pubSub.caCertificate);
  const cdc = startProcess('cdc', process.execPath, tsxArgs('src/cdc/main.ts'), {
    ...childEnv,
    SALESFORCE_PUBSUB_ENDPOINT: pubSub.endpoint,
    SALESFORCE_PUBSUB_CA_FILE: caFile,
  });
  children.push(cdc);
  watch(cdc);

  const simulatorLines = systemNames
    .map(
      (system) =>
        `  ${`${systemCatalog[system].title} sim`.padEnd(16)}  http://${host}:${simPort(system)}${bannerOf[system](config)}`,
    )
    .join('\n');
  const ui = config.TEMPORAL_DEV_HEADLESS ? '(headless)' : `http://${host}:${config.TEMPORAL_DEV_UI_PORT}`;
  console.log(`
integration-coordinator is up (${((Date.now() - startedAt) / 1000).toFixed(1)} s)

  API               ${apiUrl}        token: ${env.API_TOKEN === devApiToken ? devApiToken : '(from API_TOKEN)'}, or the access key below
  Temporal Web UI   ${ui}
  Temporal gRPC     ${temporalAddress}   (data: ${config.TEMPORAL_DEV_DB_FILE})
  Codec server      ${codecUrl}   key: ${devKeyInUse ? `${devAccessKey}  (the Web UI decodes through it)` : '(from ACCESS_KEYS)'}
${simulatorLines}
  Pub/Sub API (sim) ${pubSub.endpoint}   read by the CDC subscriber (${config.CDC_CHANNELS.join(', ')})

Try:  curl -s ${apiUrl}/healthz
Ctrl-C stops everything.
`);
}

main().catch((err: unknown) => {
  console.error(`npm start failed: ${(err as Error).message}`);
  process.exit(1);
});
