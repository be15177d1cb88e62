import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportedSeriesNames } from '../../src/observability/metric-names';
import { findPrometheus, rulesDir } from '../support/prometheus';

const found = findPrometheus();
const promtool = 'promtool' in found ? found.promtool : undefined;

describe('alert rules and dashboard', () => {
  it.skipIf(!promtool)(
    `promtool check rules and promtool test rules pass${'missing' in found ? ` (skipped: ${found.missing})` : ''}`,
    () => {
      const check = execFileSync(promtool!, ['check', 'rules', 'rules.yml'], {
        cwd: rulesDir,
        encoding: 'utf8',
      });
      expect(check).toContain('SUCCESS');
      const test = spawnSync(promtool!, ['test', 'rules', 'rules.test.yml'], {
        cwd: rulesDir,
        encoding: 'utf8',
      });
      expect(test.status, `${test.stdout}${test.stderr}`).toBe(0);
      expect(test.stdout).toContain('SUCCESS');
    },
  );

  it('every metric named by an alert rule, recording rule or dashboard panel exists in the registry', () => {
    const rules = readFileSync(resolve(rulesDir, 'rules.yml'), 'utf8');
    const recorded = [...rules.matchAll(/- record: (\S+)/g)].map((m) => m[1]!);
    const known = new Set([...exportedSeriesNames(), ...recorded]);
    const dashboard = JSON.parse(
      readFileSync(resolve(__dirname, '../../deploy/grafana/integration-coordinator.json'), 'utf8'),
    ) as { panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).toBeGreaterThan(10);
    const names = (expr: string) => [...expr.matchAll(/\b(integration[a-z0-9_:]*)/g)].map((m) => m[1]!);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets) {
        expect(names(expr).length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names(expr)) expect(known.has(name), `${panel.title}: ${name}`).toBe(true);
      }
    }
    const ruleExprs = [...rules.matchAll(/expr: >?\n?([\s\S]*?)\n\s*(?:[a-z_]+:|- |\n)/g)].map((m) => m[1]!);
    expect(ruleExprs.length).toBeGreaterThan(8);
    for (const expr of ruleExprs)
      for (const name of names(expr)) expect(known.has(name), `${name} in ${expr}`).toBe(true);
  });
});
