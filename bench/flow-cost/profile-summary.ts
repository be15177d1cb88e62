/**
 * Where a process's CPU goes, from V8 CPU profiles (`node --cpu-prof`, what `bench/flow-cost.ts --cpu-prof`
 * records for the project's worker and API): self time grouped by package (an npm package, the Temporal
 * SDK's parts, the workflow sandbox bundle, Node's internals, V8's garbage collector, the project's own
 * code) and the functions with the most self time.
 *
 *   npx tsx bench/flow-cost/profile-summary.ts <file.cpuprofile | directory> [--top N] [--skip-seconds S]
 *
 * `--skip-seconds` leaves out the first S seconds of each profile (start-up: module loading, bundling).
 *
 * Idle time is left out; percentages are of the busy time. Bad arguments print usage and exit 2.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const usage =
  'usage: npx tsx bench/flow-cost/profile-summary.ts <file.cpuprofile | directory> [--top N] [--skip-seconds S]';

/** The bucket a frame's self time belongs to. */
export function categoryOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8 garbage collector';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8 / native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return 'Node internals';
  // The workflow sandbox runs the webpack bundle in a vm context; its frames have no node_modules path.
  if (/workflow-bundle|webpack|^evalmachine/.test(url)) return 'workflow sandbox (bundle)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (/\/src\//.test(url)) return 'project code (src/)';
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

export function summarise(profile: CpuProfile, skipUs = 0) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at > skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const category = categoryOf(f.url, f.functionName);
    if (category === '(idle)') continue;
    busy += us;
    categories.set(category, (categories.get(category) ?? 0) + us);
    const where = f.url ? `${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : 'native';
    const key = `${f.functionName || '(anonymous)'} ${where} [${category}]`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { busyMs: busy / 1000, categories: sorted(categories), functions: sorted(functions) };
}

function main(): void {
  const args = process.argv.slice(2);
  let top = 15;
  let skipSeconds = 0;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') {
      top = Number(args[++i]);
      if (!Number.isInteger(top) || top < 1) fail('--top needs a positive integer');
    } else if (args[i] === '--skip-seconds') {
      skipSeconds = Number(args[++i]);
      if (!Number.isFinite(skipSeconds) || skipSeconds < 0) fail('--skip-seconds needs a number >= 0');
    } else if (args[i] === '--help') {
      console.log(usage);
      process.exit(0);
    } else if (args[i]!.startsWith('-')) fail(`unknown option ${args[i]}`);
    else paths.push(args[i]!);
  }
  if (paths.length !== 1) fail('one profile file or directory');
  const files = statSync(paths[0]!, { throwIfNoEntry: false })?.isDirectory()
    ? readdirSync(paths[0]!, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(paths[0]!, f))
    : [paths[0]!];
  if (files.length === 0) fail(`no .cpuprofile under ${paths[0]}`);
  for (const file of files) {
    let profile: CpuProfile;
    try {
      profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    } catch (err) {
      fail(`${file}: not a CPU profile (${(err as Error).message})`);
    }
    const s = summarise(profile, skipSeconds * 1e6);
    const pct = (us: number) => ((100 * us) / 1000 / s.busyMs).toFixed(1).padStart(5);
    console.log(`\n## ${file}: ${s.busyMs.toFixed(0)} ms busy\n`);
    console.log('| share | self ms | where |\n| ---: | ---: | --- |');
    for (const [c, us] of s.categories.slice(0, top))
      console.log(`| ${pct(us)} % | ${(us / 1000).toFixed(0)} | ${c} |`);
    console.log(`\nTop ${top} functions by self time:\n`);
    console.log('| share | self ms | function |\n| ---: | ---: | --- |');
    for (const [f, us] of s.functions.slice(0, top))
      console.log(`| ${pct(us)} % | ${(us / 1000).toFixed(0)} | \`${f}\` |`);
  }
}

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

if (require.main === module) main();
