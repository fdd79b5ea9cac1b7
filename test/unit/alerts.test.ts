import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { localBinaryPaths } from '../../infra/local/versions';

/**
 * The alerting rules (infra/prometheus/alerts.yml) pass `promtool check rules` and their unit tests
 * (alerts.test.yml: for each alert, series that fire it and series that must not); the Grafana dashboard is valid.
 * promtool is unpacked from Debian's prometheus package into the local cache by infra/local/install.sh. That every metric the
 * rules and the dashboard name exists in the app's registry: test/integration/alert-metrics.test.ts.
 */
const ROOT = join(__dirname, '..', '..');
const RULES = join(ROOT, 'infra/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'infra/prometheus/alerts.test.yml');
const DASHBOARD = join(ROOT, 'infra/grafana/solidarity-clips.json');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(localBinaryPaths().promtool, args, { cwd: ROOT });
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '', message, code } = error as { stdout?: string; stderr?: string; message: string; code?: unknown };
    if (code === 'ENOENT') throw new Error(`promtool is not at ${localBinaryPaths().promtool}: \`npm run setup\` unpacks it there from Debian's prometheus package`, { cause: error });
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr || message}`, { cause: error });
  }
}

const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules);

describe('alerting rules', () => {
  test('when promtool checks the rules, then they are valid', async () => {
    expect(await promtool('check', 'rules', RULES)).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  test("when promtool runs the rules' unit tests, then every case passes", async () => {
    expect(await promtool('test', 'rules', RULE_TESTS)).toContain('SUCCESS');
  }, 30_000);

  test('when an alert is added, then it has a severity, a summary, a description, a for: and both a firing and a quiet test case', () => {
    const cases = (parse(readFileSync(RULE_TESTS, 'utf8')) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of rules) {
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(warning|critical)$/)]);
      expect([rule.alert, rule.for, rule.annotations?.summary, rule.annotations?.description]).toEqual([rule.alert, expect.any(String), expect.any(String), expect.any(String)]);
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect([rule.alert, mine.some((c) => (c.exp_alerts ?? []).length > 0), mine.some((c) => (c.exp_alerts ?? []).length === 0)]).toEqual([rule.alert, true, true]);
    }
    // And the README says what each one means and what to do first.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const rule of rules) expect([rule.alert, readme.includes(`\`${rule.alert}\``)]).toEqual([rule.alert, true]);
  });
});

describe('the Grafana dashboard', () => {
  test('when it is read, then it is valid JSON with distinct panel ids and a query in every panel', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Array<{ id: number; type: string; title: string; targets?: Array<{ expr: string }> }> };
    expect(dashboard.uid).toBe('solidarity-clips');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect([panel.title, (panel.targets ?? []).length > 0 && panel.targets!.every((t) => /\bsolidarity_/.test(t.expr))]).toEqual([panel.title, true]);
    }
  });

  test("when promtool reads the panels' queries (as recording rules), then every one is valid PromQL", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    const dir = await mkdtemp(join(tmpdir(), 'solidarity-dashboard-'));
    try {
      const file = join(dir, 'panels.yml');
      await writeFile(file, stringify({ groups: [{ name: 'panels', rules: exprs.map((expr, i) => ({ record: `dashboard:panel_${i}`, expr })) }] }));
      expect(await promtool('check', 'rules', file)).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
