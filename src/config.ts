import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { resolve } from 'node:path';
import { z } from 'zod';
import { defaultFieldOwnership, orderFields } from './domain/order-sync';
import { syncDirections } from './domain/batch-sync';
import { parseKeyring } from './security/payload-codec';
import type { PayloadKeyring } from './security/payload-codec';
import { accessKeyListSchema, hashAccessKey } from './security/access-keys';
import {
  activitySystems,
  defaultSimulatorUrl,
  eventSourceSystems,
  rateLimitOf,
  systemCatalog,
  systemNames,
} from './systems/catalog';
import type {
  EventSecretVariable,
  EventSourceSystem,
  RateLimitVariable,
  SimulatorPortVariable,
  SystemName,
} from './systems/catalog';

/**
 * The one place that reads the environment. Every value is validated here; a bad or missing value stops
 * the process with every offending variable named. Defaults point at the local simulators that
 * `npm start` runs, so a laptop needs no configuration; production sets every system explicitly.
 * Temporal's connection (address, namespace, TLS, API key) follows Temporal's own environment
 * conventions through @temporalio/envconfig: see docs/configuration.md.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** Activities per second on a system's task queue across all workers; 0 switches the limit off. */
const rateLimit = z.coerce.number().int().min(0);
const url = z.url({ protocol: /^https?$/ });

/** Where a URL variable points by default: a system's simulator, at this path. */
interface SimulatorUrlDefault {
  system: SystemName;
  path: string;
}

/**
 * A URL that points at a system's simulator unless set: on the simulator's default port, or on the port
 * its `SIM_*_PORT` variable moves the simulator to (filled in by `loadConfig`), so a moved simulator
 * needs no second variable.
 */
const simulatorUrl = (system: SystemName, path = '') =>
  url.default(defaultSimulatorUrl(system, path)).meta({ simulatorUrl: { system, path } });

/** The development subscriber the webhook consumer simulator answers as. */
const devWebhookSubscriber = (url: string) => ({
  name: 'dev-consumer',
  url,
  secret: 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmNk',
});
const whsecSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be a Standard Webhooks secret: whsec_<base64>');

const webhookSubscriber = z.object({
  name: z
    .string()
    .min(1)
    .regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  url,
  secret: whsecSecret,
  /** Event types this subscriber receives; empty or missing = all. */
  events: z.array(z.string()).optional(),
});

/** A variable holding JSON, validated by `schema` after parsing; `what` names the expected shape. */
const jsonOf = <T extends z.ZodType>(what: string, schema: T) =>
  z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be ${what}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

/**
 * The dev secrets of the simulators' outbound events, one per source (a secret shared by the sources
 * would let anyone holding one sign events as another); production sets its own per source.
 */
export const devSourceSecrets = {
  salesforce: 'whsec_ZGV2LXNhbGVzZm9yY2UtZXZlbnRzLXNlY3JldC0wMQ==',
  sap: 'whsec_ZGV2LXNhcC1ldmVudHMtc2VjcmV0LTAwMDAwMDAwMQ==',
  inventory: 'whsec_ZGV2LWludmVudG9yeS1ldmVudHMtc2VjcmV0LTAx',
} as const satisfies Record<EventSourceSystem, string>;
const sourceSecretVariables = eventSourceSystems.map((s) => systemCatalog[s].events.secretVariable);

/** Per-system variables whose names and defaults come from the catalog of systems. */
const systemVariables = {
  ...(Object.fromEntries(
    systemNames.map((s) => [
      systemCatalog[s].simulator.portVariable,
      port.default(systemCatalog[s].simulator.port),
    ]),
  ) as Record<SimulatorPortVariable, z.ZodDefault<typeof port>>),
  ...(Object.fromEntries(
    activitySystems.map((s) => [rateLimitOf(s).variable, rateLimit.default(rateLimitOf(s).perSecond)]),
  ) as Record<RateLimitVariable, z.ZodDefault<typeof rateLimit>>),
  ...(Object.fromEntries(
    eventSourceSystems.map((s) => [
      systemCatalog[s].events.secretVariable,
      whsecSecret.default(devSourceSecrets[s]),
    ]),
  ) as Record<EventSecretVariable, z.ZodDefault<typeof whsecSecret>>),
};

/** Measured in docs/benchmarks.md (memory with 1,000 flows in flight). */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as 30s, 15m or 1h');

/** One scheduled batch sync (docs/flows/batch-sync.md). */
const batchSync = z
  .object({
    name: z
      .string()
      .min(1)
      .max(60)
      .regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    direction: z.enum(syncDirections),
    object: z.literal('customer').default('customer'),
    /** How often its Schedule starts a run. */
    every: duration.default('15m'),
    pageSize: z.number().int().min(1).max(2000).default(200),
    /** Above this many changed Salesforce records, a run reads through a Bulk API 2.0 query job. */
    bulkThreshold: z.number().int().min(0).default(2000),
    lookback: duration.default('5m'),
    /** Create the Schedule paused (an existing Schedule keeps its own paused state). */
    paused: z.boolean().default(false),
  })
  .strict();

export const defaultBatchSyncs = [
  { name: 'customers-salesforce-to-sap', direction: 'salesforce-to-sap' },
  { name: 'customers-sap-to-salesforce', direction: 'sap-to-salesforce' },
] as const;
/**
 * The development keyring of the payload codec: a published key, so data encrypted with it is protected
 * from nobody who has read this file. `npm start` and the tests use it; production sets its own keys.
 */
export const devPayloadKeyId = 'dev-1';
export const devPayloadKeys = `${devPayloadKeyId}:ZGV2LW9ubHktcGF5bG9hZC1rZXktbm90LXNlY3JldCE=`;

/**
 * The development access key `npm start` prints and configures (every scope): published like the dev
 * payload key, so it guards nothing outside a laptop; production sets ACCESS_KEYS (npm run keys:new).
 */
export const devAccessKey = 'dev-admin.ZGV2LW9ubHktYWNjZXNzLWtleS1ub3Qtc2VjcmV0';
export const devAccessKeys = () =>
  JSON.stringify([
    { id: 'dev-admin', sha256: hashAccessKey(devAccessKey), scopes: ['admin'], perMinute: 600 },
  ]);

const boolFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const envSchema = z.object({
  TASK_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('integration'),

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Required by the API (see loadConfig's `forApi`); the worker does not use it. */
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TEMPORAL_UI_URL: url.default('http://127.0.0.1:8233'),
  /** Connectivity checks the API starts per minute, whoever asks (each probes every configured system). */
  CONNECTIVITY_CHECKS_PER_MINUTE: positiveInt.default(6),

  SALESFORCE_LOGIN_URL: simulatorUrl('salesforce'),
  SALESFORCE_CLIENT_ID: z.string().min(1).default('dev-client'),
  SALESFORCE_CLIENT_SECRET: z.string().min(1).default('dev-secret'),
  /** With a username and password the password grant is used (it returns a refresh token); without, client credentials. */
  SALESFORCE_USERNAME: z.string().optional(),
  SALESFORCE_PASSWORD: z.string().optional(),
  SALESFORCE_API_VERSION: z
    .string()
    .regex(/^\d{2}\.0$/, 'like 62.0')
    .default('62.0'),
  SALESFORCE_CALL_CLIENT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('integration-coordinator'),
  /** The Pub/Sub API (gRPC over TLS) the CDC subscriber reads change events from. */
  SALESFORCE_PUBSUB_ENDPOINT: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'host:port, like api.pubsub.salesforce.com:7443')
    .default('127.0.0.1:4011'),
  /** PEM file of a CA to trust for the Pub/Sub endpoint instead of the system's (a simulator's own). */
  SALESFORCE_PUBSUB_CA_FILE: z.string().optional(),
  /** Change channels the CDC subscriber follows, comma-separated. */
  CDC_CHANNELS: z
    .string()
    .default('/data/AccountChangeEvent,/data/OpportunityChangeEvent')
    .transform((v) =>
      v
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^\/data\/\w+ChangeEvent$/, 'like /data/AccountChangeEvent')).min(1)),
  /** Events requested per FetchRequest (flow control; Salesforce allows at most 100). */
  CDC_BATCH_SIZE: positiveInt.max(100).default(50),

  SAP_WSDL_PATH: z.string().default(resolve(__dirname, '../wsdl/sap/rfc-functions.wsdl')),
  SAP_ENDPOINT: simulatorUrl('sap', '/sap/bc/soap/rfc'),
  SAP_USERNAME: z.string().min(1).default('DEV_USER'),
  SAP_PASSWORD: z.string().min(1).default('dev-password'),
  SAP_TIMEOUT_MS: positiveInt.default(30_000),
  SAP_SALES_ORG: z.string().length(4).default('1000'),
  SAP_DISTRIBUTION_CHANNEL: z.string().length(2).default('10'),
  SAP_DIVISION: z.string().length(2).default('00'),
  SAP_REFERENCE_CUSTOMER: z
    .string()
    .regex(/^\d{1,10}$/)
    .default('0000100000'),

  WEBHOOK_SUBSCRIBERS: jsonOf('a JSON array', z.array(webhookSubscriber)).default([
    devWebhookSubscriber(defaultSimulatorUrl('webhooks', '/hooks/default')),
  ]),
  WEBHOOK_TIMEOUT_MS: positiveInt.default(15_000),
  ALERT_WEBHOOK_URL: url.optional(),
  /** Alertmanager base URL: alerts are also posted to its `/api/v2/alerts`. */
  ALERTMANAGER_URL: url.optional(),

  /** Which system owns each field of an Opportunity / SAP sales order pair (see docs/flows/event-sync.md). */
  FIELD_OWNERSHIP: jsonOf(
    'a JSON object',
    z.partialRecord(z.enum(orderFields), z.enum(['salesforce', 'sap', 'shared'])),
  ).default(defaultFieldOwnership),
  ENTITY_IDLE_TIMEOUT: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 30m or 1h')
    .default('1h'),
  /** The SAP user name the coordinator's own changes carry (echo suppression); defaults to SAP_USERNAME. */
  SAP_TECHNICAL_USER: z.string().optional(),

  INVENTORY_BASE_URL: simulatorUrl('inventory'),

  /** Joins a billing customer (Stripe-compatible API) to customer creation; off unless set. */
  BILLING_ENABLED: boolFlag.default(false),
  BILLING_API_URL: simulatorUrl('billing'),
  /** A Stripe secret key (`sk_live_...` / `sk_test_...`); the default is the simulator's. */
  BILLING_SECRET_KEY: z.string().min(1).default('sk_test_devBillingLocalOnly0123456789'),
  BILLING_TIMEOUT_MS: positiveInt.default(20_000),

  /** The scheduled batch syncs, a JSON array (docs/flows/batch-sync.md). */
  BATCH_SYNCS: jsonOf(
    'a JSON array',
    z
      .array(batchSync)
      .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'sync names must be unique'),
  ).default(defaultBatchSyncs.map((s) => batchSync.parse(s))),
  /** Share of Salesforce's daily API allowance batch work may use; the rest is kept for real-time flows. */
  SYNC_QUOTA_RESERVE: z.coerce.number().gt(0).max(1).default(0.9),
  /** How often a parked batch run checks Salesforce's API usage again. */
  SYNC_PARK_CHECK_INTERVAL: duration.default('5m'),
  /** A batch run continues as new once its history has this many events. */
  SYNC_MAX_HISTORY_EVENTS: z.coerce.number().int().min(200).max(40_000).default(2_000),
  SYNC_BULK_POLL_MS: positiveInt.default(2_000),
  /** Create or update the sync Schedules when the worker starts. */
  SYNC_SCHEDULES_APPLY: boolFlag.default(true),
  /** The stuck-run detector's Schedule (applied with the sync Schedules) and its limits. */
  STUCK_RUN_CHECK_INTERVAL: duration.default('5m'),
  STUCK_RUN_MAX_ATTEMPTS: positiveInt.default(10),
  STUCK_RUN_NO_PROGRESS: duration.default('30m'),
  /** The payload codec's keyring, `id:base64key[,id:base64key...]`, 32-byte AES-256 keys; see docs/security.md. */
  PAYLOAD_CODEC_KEYS: z.string().default(devPayloadKeys),
  /** The id of the key in PAYLOAD_CODEC_KEYS that encrypts new payloads (the others only decrypt). */
  PAYLOAD_CODEC_CURRENT_KEY_ID: z.string().default(devPayloadKeyId),
  /** Access keys, stored as SHA-256 digests with their scopes and rate (docs/security.md#access-keys). */
  ACCESS_KEYS: jsonOf('a JSON array of {id, sha256, scopes, perMinute}', accessKeyListSchema).optional(),
  /** The codec server (`npm run codec-server`): where it listens and the one browser origin it serves. */
  CODEC_SERVER_HOST: z.string().default('127.0.0.1'),
  CODEC_SERVER_PORT: port.default(8888),
  /** The Web UI's origin; default: the origin of TEMPORAL_UI_URL. */
  CODEC_SERVER_ALLOWED_ORIGIN: url.optional(),

  METRICS_PORT: port.optional(),
  /** 127.0.0.1 on a laptop; 0.0.0.0 in a container so Prometheus can scrape it. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  WORKER_SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  /**
   * Runs whose workflow state the worker keeps between their workflow tasks (the SDK's sticky cache).
   * A run pushed out of it is replayed from its history at its next task: less memory, more CPU.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(2, 'at least 2 (runs kept between their workflow tasks)')
    .default(DEFAULT_MAX_CACHED_WORKFLOWS),
  /**
   * Read by the C library (glibc) when the process starts, not by this code: how many malloc arenas
   * the process's threads share. Checked here so a typo is refused instead of silently ignored; the
   * Docker image and `npm start` run the worker with 2.
   */
  MALLOC_ARENA_MAX: positiveInt.optional(),
  /** V8 heap of the workflow thread (src/workers/workflow-thread-heap.ts): old-generation limit, MiB. */
  WORKER_WORKFLOW_HEAP_MB: z.coerce
    .number()
    .int()
    .min(128, 'at least 128 (MiB)')
    .max(16_384, 'at most 16384 (MiB)')
    .default(512),
  /** V8 heap of the workflow thread: each of the young generation's two semi-spaces, MiB. */
  WORKER_WORKFLOW_SEMI_SPACE_MB: z.coerce
    .number()
    .int()
    .min(1, 'at least 1 (MiB)')
    .max(64, 'at most 64 (MiB)')
    .default(4),
  /**
   * V8 heap of the worker's main thread (src/workers/main-thread-heap.ts): each of the young
   * generation's two semi-spaces, MiB. Applied at start (node flag), so the worker restarts itself
   * with it if it was started without one.
   */
  WORKER_MAIN_SEMI_SPACE_MB: z.coerce
    .number()
    .int()
    .min(1, 'at least 1 (MiB)')
    .max(64, 'at most 64 (MiB)')
    .default(4),
  /**
   * Worker Versioning: the Worker Deployment this worker belongs to and the build it runs. Both set =
   * a versioned worker (runs pinned to the version they started on, docs/deployment.md); both unset =
   * unversioned (dev server, tests).
   */
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -')
    .optional(),
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.+-]+$/, 'letters, digits and _ . + -')
    .optional(),

  /** Tracing (off by default): the standard OpenTelemetry variables; see docs/observability.md. */
  OTEL_SDK_DISABLED: boolFlag.optional(),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'console', 'none'], 'one of otlp, console, none (this build exports OTLP over HTTP)')
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/json'], 'http/json (the exporter this build ships)').optional(),
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dots, dashes and underscores')
    .optional(),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),

  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  TEMPORAL_DEV_DB_FILE: z.string().default('.data/temporal.db'),
  TEMPORAL_DEV_HEADLESS: boolFlag.default(false),
  /** Simulator ports, rate limits and event secrets of each system (src/systems/catalog.ts). */
  ...systemVariables,
});

export type Env = z.infer<typeof envSchema>;
export type WebhookSubscriber = z.infer<typeof webhookSubscriber>;

export interface TemporalConnectionConfig {
  namespace: string;
  connectionOptions: NativeConnectionOptions;
}

export interface Config extends Env {
  temporal: TemporalConnectionConfig;
  /** The payload codec's keys, parsed and checked (see src/security/payload-codec.ts). */
  payloadKeyring: PayloadKeyring;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** The API needs its bearer token or access keys; other processes do not. */
  forApi?: boolean;
  /** The codec server needs access keys. */
  forCodecServer?: boolean;
}

/**
 * The simulator URL defaults for simulators moved by their `SIM_*_PORT` variable: every variable made
 * with `simulatorUrl` and the development webhook subscriber, where the variable itself is unset.
 */
function simulatorUrlsOnMovedPorts(env: Record<string, string>): Record<string, string> {
  const movedPort = (system: SystemName) => {
    const value = env[systemCatalog[system].simulator.portVariable];
    // Port 0 (a free port picked at start) names no URL: the default stays.
    return value !== undefined && /^[1-9]\d{0,4}$/.test(value) ? value : undefined;
  };
  const filled: Record<string, string> = {};
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const at = (schema.meta() as { simulatorUrl?: SimulatorUrlDefault } | undefined)?.simulatorUrl;
    const moved = at && movedPort(at.system);
    if (at && moved && env[name] === undefined) filled[name] = `http://127.0.0.1:${moved}${at.path}`;
  }
  const webhooks = movedPort('webhooks');
  if (webhooks && env.WEBHOOK_SUBSCRIBERS === undefined) {
    const subscriber = devWebhookSubscriber(`http://127.0.0.1:${webhooks}/hooks/default`);
    filled.WEBHOOK_SUBSCRIBERS = JSON.stringify([subscriber]);
  }
  return filled;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  // Empty strings count as unset, the way shells and .env files usually mean them.
  const set = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  ) as Record<string, string>;
  const cleaned = { ...set, ...simulatorUrlsOnMovedPorts(set) };
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [name, ...rest] = issue.path.map(String);
      const where = rest.length ? `${name} (${rest.join('.')})` : name;
      problems.push(`${where}: ${issue.message}`);
    }
  }
  if (Boolean(cleaned.WORKER_DEPLOYMENT_NAME) !== Boolean(cleaned.WORKER_BUILD_ID)) {
    problems.push('WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID: set both (a versioned worker) or neither');
  }
  if (parsed.success) {
    // One secret per source: a shared one lets a holder of one source's secret sign as another source.
    sourceSecretVariables.forEach((name, i) => {
      const same = sourceSecretVariables
        .slice(0, i)
        .find((other) => parsed.data[other] === parsed.data[name]);
      if (same) problems.push(`${name}: must differ from ${same} (each source signs with its own secret)`);
    });
  }
  let payloadKeyring: PayloadKeyring | undefined;
  if (parsed.success) {
    const ring = parseKeyring(parsed.data.PAYLOAD_CODEC_KEYS, parsed.data.PAYLOAD_CODEC_CURRENT_KEY_ID);
    for (const p of ring.problems) {
      problems.push(
        `${p.variable === 'keys' ? 'PAYLOAD_CODEC_KEYS' : 'PAYLOAD_CODEC_CURRENT_KEY_ID'}: ${p.message}`,
      );
    }
    payloadKeyring = ring.keyring;
  }
  if (options.forApi && !cleaned.API_TOKEN && !cleaned.ACCESS_KEYS) {
    problems.push(
      'API_TOKEN: required by the API unless ACCESS_KEYS is set (a bearer token of at least 16 characters)',
    );
  }
  if (options.forCodecServer && !cleaned.ACCESS_KEYS) {
    problems.push('ACCESS_KEYS: required by the codec server (keys with the codec scope; npm run keys:new)');
  }
  let temporal: TemporalConnectionConfig | undefined;
  try {
    const loaded = loadClientConnectConfig({ overrideEnvVars: cleaned });
    temporal = {
      namespace: loaded.namespace ?? 'default',
      connectionOptions: {
        ...loaded.connectionOptions,
        address: loaded.connectionOptions.address ?? '127.0.0.1:7233',
      },
    };
  } catch (err) {
    problems.push(`Temporal client configuration (TEMPORAL_*): ${(err as Error).message}`);
  }
  if (problems.length || !parsed.success || !temporal || !payloadKeyring) throw new ConfigError(problems);
  return { ...parsed.data, temporal, payloadKeyring };
}

/** The one browser origin the codec server answers: CODEC_SERVER_ALLOWED_ORIGIN, else the Web UI's. */
export function codecServerOrigin(
  config: Pick<Config, 'CODEC_SERVER_ALLOWED_ORIGIN' | 'TEMPORAL_UI_URL'>,
): string {
  return new URL(config.CODEC_SERVER_ALLOWED_ORIGIN ?? config.TEMPORAL_UI_URL).origin;
}

/** For composition roots: load the configuration or print every problem and exit. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  try {
    return loadConfig(env, options);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
