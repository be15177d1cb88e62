import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const rulesDir = resolve(__dirname, '../../deploy/prometheus');

/**
 * Prometheus and promtool as `scripts/prometheus.sh --check` finds them (it never installs: CI runs
 * `scripts/prometheus.sh --ensure` first). Undefined, with the reason, when they are not installed —
 * the caller skips; with REQUIRE_PROMETHEUS=1 (set by .ci/run) or CI=true it is an error instead, so CI cannot skip silently.
 */
export function findPrometheus(): { prometheus: string; promtool: string } | { missing: string } {
  try {
    const out = execFileSync('bash', [resolve(__dirname, '../../scripts/prometheus.sh'), '--print-path'], {
      env: { ...process.env, PROMETHEUS_NO_INSTALL: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    const [prometheus, promtool] = out.split(' ');
    return { prometheus: prometheus!, promtool: promtool! };
  } catch (err) {
    const reason = `Prometheus is not installed (run scripts/prometheus.sh --ensure): ${(err as { stderr?: string }).stderr?.trim() ?? (err as Error).message}`;
    if (process.env.REQUIRE_PROMETHEUS || process.env.CI) throw new Error(reason);
    return { missing: reason };
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/** A real Prometheus on a free loopback port scraping `targets` every second, with our rule file. */
export async function startPrometheus(
  binary: string,
  targets: { job: string; url: string }[],
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-test-'));
  const scrapeConfigs = targets.map(({ job, url }) => {
    const u = new URL(url);
    return `  - job_name: ${job}\n    metrics_path: ${u.pathname}\n    static_configs:\n      - targets: ['${u.host}']`;
  });
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${join(rulesDir, 'rules.yml')}\nscrape_configs:\n${scrapeConfigs.join('\n')}\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus did not become ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data: { result: never[] }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
