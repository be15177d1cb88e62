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

  // Prometheus evaluates the groups of a rule file independently (promtool in random order), and the
  // rules of one group in order: an alert reading a recording rule from another group, or from later in
  // its own, sees the value recorded one evaluation earlier (the backlog alert's test failed with 1950
  // instead of 2000 whenever promtool happened to evaluate the alert group first).
  it('every rule that reads a recording rule comes after it in the same group', () => {
    const rules = readFileSync(resolve(rulesDir, 'rules.yml'), 'utf8');
    const entries: { group: string; name: string; expr: string }[] = [];
    for (const group of rules.split(/^ {2}- name: /m).slice(1)) {
      const groupName = group.split('\n')[0]!.trim();
      for (const rule of group.split(/^ {6}- (?=record:|alert:)/m).slice(1)) {
        const name = /^(?:record|alert): (\S+)/.exec(rule)![1]!;
        entries.push({
          group: groupName,
          name,
          expr: /expr: >?\s*([\s\S]*?)(?:\n\s+(?:for|labels):|$)/.exec(rule)![1]!,
        });
      }
    }
    const recorded = entries.filter((e) => e.name.includes(':'));
    expect(recorded.length).toBeGreaterThan(0);
    let readers = 0;
    entries.forEach((rule, index) => {
      for (const record of recorded) {
        if (!new RegExp(`\\b${record.name}\\b`).test(rule.expr)) continue;
        readers += 1;
        expect(rule.group, `${rule.name} reads ${record.name}`).toBe(record.group);
        expect(entries.indexOf(record), `${rule.name} reads ${record.name}`).toBeLessThan(index);
      }
    });
    expect(readers).toBeGreaterThanOrEqual(2);
  });

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
