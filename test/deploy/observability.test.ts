// The checked-in Grafana dashboard and Prometheus alert rules: valid for Prometheus' own tool
// (the dashboard's queries too, as recording rules), each alert firing on a known-bad series
// (alerts.test.yml), and every metric they read really exported by a running replica.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { isReady, killAllStratus, ROOT, spawnStratus } from '../helpers/stratus-process.js';
import { exportedNames, metricNames, unknownMetrics } from './promql.js';

const OBS = join(ROOT, 'deploy/observability');
const ALERTS = join(OBS, 'prometheus/alerts.yml');
const ALERT_TESTS = join(OBS, 'prometheus/alerts.test.yml');
const DASHBOARD = join(OBS, 'grafana/dashboards/stratus.json');

const promtool = (...args: string[]) =>
  execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `promtool check rules FILE`: whether it passed, and what it printed either way. */
function checkRules(file: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: promtool('check', 'rules', file) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A temporary directory for the duration of `body`. */
function withTempDir<T>(prefix: string, body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string; refId: string }>;
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; allValue?: string }> };
}
interface RuleTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}
interface RuleFile {
  groups: Array<{
    name: string;
    rules: Array<{ alert: string; expr: string; labels: { severity: string } }>;
  }>;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const rules = parse(readFileSync(ALERTS, 'utf8')) as RuleFile;

const dashboardExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
);

/**
 * Grafana's built-in interval variables at 5m (its `$__rate_interval` is at least four scrape
 * intervals; any valid duration parses the same), and each of the dashboard's own variables at
 * its "All" value, as a query runs with every replica picked.
 */
const TEMPLATE_VALUES: Readonly<Record<string, string>> = {
  __rate_interval: '5m',
  __interval: '5m',
  __range: '5m',
  ...Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v.allValue ?? '.*'])),
};

/** `expr` with its template variables (`$x`, `${x}`, `${x:format}`, `[[x]]`) filled in; throws naming one it has no value for. */
function substituted(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(
    /\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]/g,
    (whole, braced?: string, bare?: string, bracketed?: string) => {
      const name = (braced ?? bare ?? bracketed)!;
      const value = values[name];
      if (value === undefined) throw new Error(`no value for the template variable ${whole} in ${expr}`);
      return value;
    },
  );
}

/** The dashboard's queries as a Prometheus rule file: one recording rule per panel query. */
function dashboardRuleFile(extra: Array<{ record: string; expr: string }> = []): string {
  const rules = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      record: `dashboard:${p.title.toLowerCase().replace(/[^a-z0-9]+/g, '_')}:${t.refId}`,
      expr: substituted(t.expr, TEMPLATE_VALUES),
    })),
  );
  return stringify({ groups: [{ name: 'dashboard', rules: [...rules, ...extra] }] });
}
const alertExprs = rules.groups.flatMap((g) =>
  g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
);

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', ALERTS)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("fire on known-bad series and stay quiet on good ones (promtool's unit tests)", () => {
    expect(promtool('test', 'rules', ALERT_TESTS)).toMatch(/SUCCESS/);
  });

  it('every alert has a case in the unit tests where it fires', () => {
    const tests = parse(readFileSync(ALERT_TESTS, 'utf8')) as RuleTests;
    const firing = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname),
      ),
    );
    const names = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names.length).toBeGreaterThanOrEqual(15);
    expect(names.filter((n) => !firing.has(n))).toEqual([]);
  });

  it('promtool refuses a broken rule, so the checks above can fail', () => {
    withTempDir('stratus-rules-', (dir) => {
      const bad = join(dir, 'bad.yml');
      writeFileSync(
        bad,
        'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n',
      );
      expect(() => promtool('check', 'rules', bad)).toThrow();
    });
  });

  it('every alert names a severity of page or ticket, a summary and a description', () => {
    const all = rules.groups.flatMap((g) => g.rules) as Array<{
      alert: string;
      labels: { severity: string };
      annotations?: { summary?: string; description?: string };
    }>;
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const r of all) {
      expect(['page', 'ticket'], r.alert).toContain(r.labels.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
  });

  it('the compose Prometheus configuration loads them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-prom-'));
    try {
      copyFileSync(ALERTS, join(dir, 'alerts.yml'));
      const config = readFileSync(join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8').replace(
        '/etc/prometheus/alerts.yml',
        join(dir, 'alerts.yml'),
      );
      writeFileSync(join(dir, 'prometheus.yml'), config);
      expect(promtool('check', 'config', join(dir, 'prometheus.yml'))).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the dashboard', () => {
  it('has the panels an operator needs, each with a query', () => {
    const titles = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(titles).toEqual(['API', 'Jobs', 'Leaders and failovers', 'Breakers and bulkheads', 'Controllers']);
    for (const p of dashboard.panels.filter((q) => q.type !== 'row'))
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('every query, its variables filled in, passes promtool check rules', () => {
    expect(substituted('rate(x{stratus_node=~"$node"}[$__rate_interval])', TEMPLATE_VALUES)).toBe(
      'rate(x{stratus_node=~".*"}[5m])',
    );
    expect(() => substituted('rate(x[$window])', TEMPLATE_VALUES)).toThrow(/variable \$window in/);
    withTempDir('stratus-dashboard-', (dir) => {
      const file = join(dir, 'dashboard.yml');
      writeFileSync(file, dashboardRuleFile());
      const { ok, output } = checkRules(file);
      expect(ok, output).toBe(true);
      expect(output).toMatch(new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
    });
  });

  it('a broken query among them fails the check, naming it, so the check above can fail', () => {
    withTempDir('stratus-dashboard-', (dir) => {
      const file = join(dir, 'dashboard.yml');
      // A panel's query with its closing parenthesis lost.
      const broken = substituted(dashboardExprs[0]!.expr, TEMPLATE_VALUES).slice(0, -1);
      writeFileSync(file, dashboardRuleFile([{ record: 'dashboard:broken:A', expr: broken }]));
      const { ok, output } = checkRules(file);
      expect(ok).toBe(false);
      expect(output).toMatch(/"dashboard:broken:A": could not parse expression/);
    });
  });
});

describe('metric names', () => {
  it('are read from PromQL without label names, grouping or strings', () => {
    expect(
      metricNames(
        'sum by (stratus_node) (rate(stratus_jobs_failed_total{stratus_node=~"stratus_x"}[5m])) / on (key) up',
      ),
    ).toEqual(['stratus_jobs_failed_total']);
  });

  it('a name the program does not export is reported, naming where it is', () => {
    const exported = exportedNames(
      '# TYPE stratus_leader gauge\n# TYPE stratus_job_duration_seconds histogram\n',
    );
    expect(
      unknownMetrics(
        [
          {
            where: 'panel "a"',
            expr: 'sum(stratus_leader) + histogram_quantile(0.9, stratus_job_duration_seconds_bucket)',
          },
          { where: 'alert B', expr: 'rate(stratus_nope_total[5m])' },
        ],
        exported,
      ),
    ).toEqual(['alert B: stratus_nope_total']);
  });

  describe('against a running replica', () => {
    let t: TestDatabase;
    const redis = testRedisPrefix();
    let exported: Set<string>;

    beforeAll(async () => {
      t = await createTestDatabase();
      const p = spawnStratus(['start', '--role', 'all', '--port', '0', '--node-id', 'metrics-1'], {
        DATABASE_URL: t.url,
        REDIS_URL,
        REDIS_PREFIX: redis.prefix,
      });
      const ready = await p.waitForLog(isReady, 60_000);
      exported = exportedNames(await (await fetch(`${ready.url as string}/metrics`)).text());
    }, 90_000);

    afterAll(async () => {
      await killAllStratus();
      await redis.cleanup();
      await t?.drop();
    });

    it('every metric the dashboard and the alerts read is exported', () => {
      expect(exported.size).toBeGreaterThan(20);
      expect(unknownMetrics([...dashboardExprs, ...alertExprs], exported)).toEqual([]);
    });
  });
});
