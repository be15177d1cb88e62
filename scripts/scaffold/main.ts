/**
 * `npm run new:system <name>` and `npm run new:flow <name>`: write a new system's or flow's files and
 * register them in the tables the compiler checks (see docs/adding-a-system.md). The result compiles and
 * its generated tests pass; then replace the example resource or step with the real ones.
 *
 * Usage: tsx scripts/scaffold/main.ts system <name> | flow <name>   [--root <project directory>]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { flowDoc, flowMessages, flowStartSpec, flowTest, flowWorkflow } from './flow-templates';
import type { FlowNames } from './flow-templates';
import {
  systemActivities,
  systemClient,
  systemDoc,
  systemErrors,
  systemSimulator,
  systemTest,
} from './system-templates';
import type { SystemNames } from './system-templates';

class UsageError extends Error {}

interface Project {
  root: string;
  created: string[];
  edited: Set<string>;
}

function create(p: Project, file: string, text: string): void {
  const path = resolve(p.root, file);
  if (existsSync(path)) throw new UsageError(`${file} exists already: nothing written`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  p.created.push(file);
}

/** Inserts `text` before the first match of `anchor` after `after` (if given) in `file`. */
function insertBefore(p: Project, file: string, anchor: string | RegExp, text: string, after?: string): void {
  const path = resolve(p.root, file);
  const source = readFileSync(path, 'utf8');
  const from = after === undefined ? 0 : source.indexOf(after);
  if (from < 0) throw new Error(`${file}: "${after}" not found; register by hand (docs/adding-a-system.md)`);
  const rest = source.slice(from);
  const match = typeof anchor === 'string' ? rest.indexOf(anchor) : rest.search(anchor);
  if (match < 0)
    throw new Error(`${file}: "${String(anchor)}" not found; register by hand (docs/adding-a-system.md)`);
  const at = from + match;
  writeFileSync(path, source.slice(0, at) + text + source.slice(at));
  p.edited.add(file);
}

/** Adds an import line after the file's last top-level import. */
function addImport(p: Project, file: string, line: string): void {
  const path = resolve(p.root, file);
  const source = readFileSync(path, 'utf8');
  const imports = [...source.matchAll(/^import [^;]+;\n/gm)];
  const last = imports[imports.length - 1];
  const at = last ? last.index + last[0].length : 0;
  writeFileSync(path, source.slice(0, at) + line + '\n' + source.slice(at));
  p.edited.add(file);
}

function append(p: Project, file: string, text: string): void {
  const path = resolve(p.root, file);
  writeFileSync(path, readFileSync(path, 'utf8') + text);
  p.edited.add(file);
}

function newSystem(p: Project, name: string): void {
  if (!/^[a-z][a-z0-9]{1,29}$/.test(name)) {
    throw new UsageError(
      `a system name is one lower-case word of letters and digits (like "crm"), not "${name}"`,
    );
  }
  const catalogFile = 'src/systems/catalog.ts';
  const catalog = readFileSync(resolve(p.root, catalogFile), 'utf8');
  if (new RegExp(`'${name}'`).test(/systemNames = \[[^\]]*\]/.exec(catalog)?.[0] ?? '')) {
    throw new UsageError(`${name} is a system already`);
  }
  const ports = [...catalog.matchAll(/port: (\d+),/g)].map((m) => Number(m[1]));
  const n: SystemNames = {
    name,
    pascal: name[0]!.toUpperCase() + name.slice(1),
    upper: name.toUpperCase(),
    port: Math.max(4000, ...ports) + 10,
  };
  const { pascal, upper } = n;

  create(p, `src/activities/${name}/client.ts`, systemClient(n));
  create(p, `src/activities/${name}/errors.ts`, systemErrors(n));
  create(p, `src/activities/${name}/activities.ts`, systemActivities(n));
  create(p, `src/simulators/${name}/index.ts`, systemSimulator(n));
  create(p, `test/activities/${name}.test.ts`, systemTest(n));
  create(p, `docs/simulators/${name}.md`, systemDoc(n));

  // The catalog: the name, then its facts. Every table keyed by SystemName fails to compile until it
  // has an entry, and the entries below are those.
  insertBefore(p, catalogFile, '] as const;', `, '${name}'`, 'export const systemNames = [');
  insertBefore(
    p,
    catalogFile,
    '} as const satisfies Record<SystemName, SystemFacts>;',
    `  ${name}: {
    title: '${pascal}',
    simulator: { port: ${n.port}, portVariable: 'SIM_${upper}_PORT' },
    activities: { rateLimit: { variable: '${upper}_RATE_LIMIT_PER_SECOND', perSecond: 10 } },
    events: false,
    errorTypes: ['${pascal}Rejected', '${pascal}AuthFailed'],
  },
`,
  );
  insertBefore(
    p,
    'src/config.ts',
    '  /** Simulator ports, rate limits and event secrets of each system',
    `  ${upper}_BASE_URL: simulatorUrl('${name}'),
  ${upper}_API_KEY: z.string().min(1).default('dev-${name}-key'),
  ${upper}_TIMEOUT_MS: positiveInt.default(15_000),
`,
  );
  addImport(
    p,
    'src/workers/dependencies.ts',
    `import { create${pascal}Activities } from '../activities/${name}/activities';`,
  );
  addImport(
    p,
    'src/workers/dependencies.ts',
    `import { ${pascal}Client } from '../activities/${name}/client';`,
  );
  insertBefore(
    p,
    'src/workers/dependencies.ts',
    '} satisfies Record<SystemName, (config: Config) => object | undefined>;',
    `  ${name}: (config) =>
    create${pascal}Activities({
      client: new ${pascal}Client({
        baseUrl: config.${upper}_BASE_URL,
        apiKey: config.${upper}_API_KEY,
        timeoutMs: config.${upper}_TIMEOUT_MS,
      }),
    }),
`,
  );
  addImport(
    p,
    'src/workflows/shared/proxies.ts',
    `import type { ${pascal}Activities } from '../../activities/${name}/activities';`,
  );
  insertBefore(
    p,
    'src/workflows/shared/proxies.ts',
    '}>;',
    `  ${name}: ${pascal}Activities;\n`,
    'export type ActivitiesByQueue',
  );
  append(
    p,
    'src/workflows/shared/policies.ts',
    `
export const ${name}ActivityOptions: ActivityOptions = {
  ...waitForRunningActivity,
  ...deadWorkerDetection,
  // Longer than the client's own timeout (${upper}_TIMEOUT_MS, 15 s by default).
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: nonRetryable,
  },
};
`,
  );
  insertBefore(
    p,
    'src/api/systems.ts',
    '} satisfies Record<SystemName, (config: Config) => ConnectivityTarget[]>;',
    `  ${name}: (config) => [{ system: '${name}', url: \`\${config.${upper}_BASE_URL}/v1/records/\` }],\n`,
  );
  addImport(
    p,
    'src/simulators/index.ts',
    `import { create${pascal}Simulator, DEV_${upper}_API_KEY } from './${name}';`,
  );
  addImport(
    p,
    'src/simulators/index.ts',
    `import type { ${pascal}Simulator, ${pascal}SimulatorOptions } from './${name}';`,
  );
  insertBefore(
    p,
    'src/simulators/index.ts',
    '\n}',
    `\n  ${name}?: ${pascal}SimulatorOptions;`,
    'export interface StartAllOptions',
  );
  insertBefore(
    p,
    'src/simulators/index.ts',
    '\n}',
    `\n  ${name}: ${pascal}Simulator;`,
    'export interface SimulatorsByName',
  );
  insertBefore(
    p,
    'src/simulators/index.ts',
    '\n};',
    `
  ${name}: {
    create: (o) => create${pascal}Simulator(o.${name}),
    describe: (_sim, o) => ({
      endpointPath: '',
      credentials: \`x-api-key: \${o.${name}?.apiKeys?.[0] ?? DEV_${upper}_API_KEY}\`,
    }),
  },`,
    'const starters',
  );
  insertBefore(
    p,
    'src/dev/start.ts',
    '} satisfies Record<SystemName, (config: Config) => string>;',
    `  ${name}: () => '   x-api-key: dev-${name}-key',\n`,
  );
  insertBefore(
    p,
    'test/support/environment.ts',
    '} satisfies Record<SystemName, (sim: SimulatorHandle) => Record<string, string>>;',
    `  ${name}: (sim) => ({ ${upper}_BASE_URL: sim.url }),\n`,
  );
  append(
    p,
    '.env.example',
    `
# ${pascal} (npm run new:system ${name}): its API, key and client timeout; activities per second on its queue
# across all workers (0 = no limit); its simulator's port.
# ${upper}_BASE_URL=http://127.0.0.1:${n.port}
# ${upper}_API_KEY=dev-${name}-key
# ${upper}_TIMEOUT_MS=15000
# ${upper}_RATE_LIMIT_PER_SECOND=10
# SIM_${upper}_PORT=${n.port}
`,
  );
}

function newFlow(p: Project, kebab: string): void {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(kebab) || kebab.length > 40) {
    throw new UsageError(`a flow name is kebab-case (like "order-archive"), not "${kebab}"`);
  }
  const camel = kebab.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  const n: FlowNames = { kebab, camel, pascal: camel[0]!.toUpperCase() + camel.slice(1) };
  const index = readFileSync(resolve(p.root, 'src/workflows/index.ts'), 'utf8');
  if (index.includes(`{ ${camel} }`)) throw new UsageError(`${camel} is a flow already`);

  create(p, `src/workflows/${kebab}.messages.ts`, flowMessages(n));
  create(p, `src/workflows/${kebab}.ts`, flowWorkflow(n));
  create(p, `test/workflows/${kebab}.test.ts`, flowTest(n));
  create(p, `docs/flows/${kebab}.md`, flowDoc(n));
  append(p, 'src/workflows/index.ts', `export { ${camel} } from './${kebab}';\n`);
  insertBefore(
    p,
    'src/workflows/workflow-types.ts',
    '} as const satisfies Record<ServiceWorkflowType, FlowDefinition>;',
    `  ${camel}: {
    lifetime: 'one-shot',
    flow: '${kebab}',
    redrive: { kind: 'restart' },
    startAttributes: [IntegrationFlow, BusinessKey],
  },
`,
  );
  addImport(
    p,
    'src/runs/start-specs.ts',
    `import { ${camel}WorkflowId } from '../workflows/${kebab}.messages';`,
  );
  insertBefore(
    p,
    'src/runs/start-specs.ts',
    '} as const satisfies { [K in ServiceWorkflowType]: StartSpec<WorkflowInput<K>> };',
    flowStartSpec(n),
  );
}

function main(argv: string[]): void {
  const rootFlag = argv.indexOf('--root');
  const root = rootFlag >= 0 ? resolve(argv[rootFlag + 1] ?? '.') : resolve(__dirname, '../..');
  const [kind, name] = rootFlag >= 0 ? argv.filter((_, i) => i !== rootFlag && i !== rootFlag + 1) : argv;
  const p: Project = { root, created: [], edited: new Set() };
  if (kind === 'system' && name) newSystem(p, name);
  else if (kind === 'flow' && name) newFlow(p, name);
  else throw new UsageError('usage: npm run new:system <name> | npm run new:flow <name>');
  // Formatted like the rest of the project, so \`npm run check\` stays clean.
  const files = [...p.created, ...p.edited];
  // Twice: one pass of prettier does not always reach its own fixed point on a method chain.
  const format = () =>
    spawnSync(resolve(root, 'node_modules/.bin/prettier'), ['--write', '--ignore-unknown', ...files], {
      cwd: root,
      stdio: 'ignore',
    });
  const prettier = format().status === 0 ? format() : { status: 1 };
  if (prettier.status !== 0) console.warn('prettier could not format the files; run npm run format');
  console.log(`created ${p.created.length} files:\n${p.created.map((f) => `  ${f}`).join('\n')}`);
  console.log(`registered in ${p.edited.size} files:\n${[...p.edited].map((f) => `  ${f}`).join('\n')}`);
  console.log('then: npm run check, and run the generated tests.');
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof UsageError ? err.message : String((err as Error).stack ?? err));
  process.exit(err instanceof UsageError ? 2 : 1);
}
