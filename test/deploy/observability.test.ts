// The checked-in Grafana dashboard and Prometheus alert rules: valid for Prometheus' own tool,
// each alert firing on a known-bad series (alerts.test.yml), and every metric they read really
// exported by a running replica.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/services.js';
import { isReady, killAllStratus, ROOT, spawnStratus } from '../helpers/stratus-process.js';
import { exportedNames, metricNames, unknownMetrics } from './promql.js';

const OBS = join(ROOT, 'deploy/observability');
const ALERTS = join(OBS, 'prometheus/alerts.yml');
const DASHBOARD = join(OBS, 'grafana/dashboards/stratus.json');

const promtool = (...args: string[]) =>
  execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}
interface RuleFile {
  groups: Array<{
    name: string;
    rules: Array<{ alert: string; expr: string; labels: { severity: string } }>;
  }>;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };
const rules = parse(readFileSync(ALERTS, 'utf8')) as RuleFile;

const dashboardExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
);
const alertExprs = rules.groups.flatMap((g) =>
  g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
);

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', ALERTS)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("fire on known-bad series and stay quiet on good ones (promtool's unit tests)", () => {
    expect(promtool('test', 'rules', join(OBS, 'prometheus/alerts.test.yml'))).toMatch(/SUCCESS/);
  });

  it('promtool refuses a broken rule, so the checks above can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-rules-'));
    try {
      const bad = join(dir, 'bad.yml');
      writeFileSync(
        bad,
        'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n',
      );
      expect(() => promtool('check', 'rules', bad)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
