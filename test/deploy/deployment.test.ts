// The deployment files, validated without a container engine: the compose file by
// docker-compose itself, HAProxy's configuration by haproxy, the Kubernetes manifests against
// the Kubernetes (and Prometheus Operator) schemas, the Dockerfile by what it must hold.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_DRAIN_DELAY_MS, SETTINGS } from '../../src/config/settings.js';
import { ROOT } from '../helpers/stratus-process.js';

const DEPLOY = join(ROOT, 'deploy');
const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked by the schemas below
  spec: any;
}

const manifests = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', file), 'utf8')).map((d) => d.toJS() as Manifest);

/** The model of each kind the manifests hold; its `validate` runs the kind's schema on `this`. */
const MODELS: Readonly<Record<string, { prototype: { validate(): void } }>> = {
  Deployment,
  Service,
  PodDisruptionBudget,
  ServiceMonitor,
};

/**
 * The fields of `value` that its schema does not have, as paths (`spec.template…`), found while
 * `check` validates it. kubernetes-models ships its schemas compiled to validators, which accept
 * unknown fields as the OpenAPI schemas do; a compiled validator reads exactly the properties its
 * schema names, and every key of a map (labels, resources), so a key it never read is one the
 * schema does not know. Objects are watched through proxies that record each key read. A
 * free-form object (a schema with neither properties nor a map's value type) would read as all
 * unknown: none of these manifests holds one.
 */
function unknownFields(value: unknown, check: (watched: unknown) => void): string[] {
  const read = new Map<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const watch = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    let proxy = proxies.get(v);
    if (proxy === undefined) {
      const keys = new Set<PropertyKey>();
      read.set(v, keys);
      proxy = new Proxy(v, {
        get(target, key, receiver) {
          keys.add(key);
          return watch(Reflect.get(target, key, receiver));
        },
      });
      proxies.set(v, proxy);
    }
    return proxy;
  };
  check(watch(value));
  const unknown: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) for (const [i, item] of v.entries()) walk(item, `${path}[${i}]`);
    else if (v !== null && typeof v === 'object')
      for (const [key, child] of Object.entries(v)) {
        if (!read.get(v)?.has(key)) unknown.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
  };
  walk(value, '');
  return unknown.map((p) => p.slice(1));
}

/**
 * Validates one manifest against its kind's schema, unknown fields refused; throws naming the
 * field when it does not fit.
 */
function validate(m: Manifest): void {
  const model = MODELS[m.kind];
  if (model === undefined) throw new Error(`no schema for kind ${m.kind}`);
  const unknown = unknownFields(m, (watched) => model.prototype.validate.call(watched));
  if (unknown.length > 0)
    throw new Error(`${m.kind}/${m.metadata.name}: unknown field ${unknown.join(', ')}`);
}

const SHUTDOWN_TIMEOUT_MS = SETTINGS.shutdownTimeoutMs.default;

describe('Kubernetes manifests', () => {
  const all = ['api.yaml', 'worker.yaml', 'servicemonitor.yaml'].flatMap(manifests);

  it('every manifest fits the Kubernetes schemas', () => {
    expect(all.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'Deployment/stratus-api',
      'Deployment/stratus-worker',
      'PodDisruptionBudget/stratus-api',
      'PodDisruptionBudget/stratus-worker',
      'Service/stratus-api',
      'Service/stratus-worker',
      'ServiceMonitor/stratus-api',
      'ServiceMonitor/stratus-worker',
    ]);
    for (const m of all) validate(m);
  });

  it('a manifest with a misspelt or mistyped field is refused, so the check above can fail', () => {
    const api = structuredClone(all.find((m) => m.kind === 'Deployment')!);
    api.spec.replicas = 'two';
    expect(() => validate(api)).toThrow(/replicas/);
    const probe = structuredClone(all.find((m) => m.kind === 'Deployment')!);
    probe.spec.template.spec.containers[0].readinessProbe.httpGet.port = { name: 'http' };
    expect(() => validate(probe)).toThrow();
    // Misspelt: a field the schema does not have, at any depth.
    const misspelt = structuredClone(all.find((m) => m.kind === 'Deployment')!);
    const readiness = misspelt.spec.template.spec.containers[0].readinessProbe;
    readiness.httpGett = readiness.httpGet;
    delete readiness.httpGet;
    expect(() => validate(misspelt)).toThrow(
      'unknown field spec.template.spec.containers[0].readinessProbe.httpGett',
    );
    const bogus = structuredClone(all.find((m) => m.kind === 'Deployment')!);
    bogus.spec.template.spec.containers[0].bogusField = 1;
    expect(() => validate(bogus)).toThrow('unknown field spec.template.spec.containers[0].bogusField');
    const monitor = structuredClone(all.find((m) => m.kind === 'ServiceMonitor')!);
    monitor.spec.endpoints[0].intervall = '30s';
    expect(() => validate(monitor)).toThrow('unknown field spec.endpoints[0].intervall');
  });

  it('the api: readiness on /readyz, liveness on /healthz, a preStop matching the drain delay, a grace longer than the shutdown', () => {
    const api = all.find((m) => m.kind === 'Deployment' && m.metadata.name === 'stratus-api')!;
    const pod = api.spec.template.spec;
    const c = pod.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    const drainFlag = c.args.indexOf('--drain-delay-ms');
    const drainMs = drainFlag >= 0 ? Number(c.args[drainFlag + 1]) : DEFAULT_DRAIN_DELAY_MS;
    expect(c.lifecycle.preStop.sleep.seconds * 1000).toBe(drainMs);
    // The readiness probe notices the drain's 503 well within the drain delay.
    expect(c.readinessProbe.periodSeconds * c.readinessProbe.failureThreshold * 1000).toBeLessThan(drainMs);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      c.lifecycle.preStop.sleep.seconds * 1000 + SHUTDOWN_TIMEOUT_MS,
    );
    expect(pod.securityContext.runAsNonRoot).toBe(true);
  });

  it('the worker: probes on its health port, a grace longer than the shutdown, at most one down at a time', () => {
    const worker = all.find((m) => m.kind === 'Deployment' && m.metadata.name === 'stratus-worker')!;
    const pod = worker.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(expect.arrayContaining(['--role', 'worker', '--health-port', '9090']));
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(c.ports).toContainEqual({ name: 'health', containerPort: 9090 });
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(SHUTDOWN_TIMEOUT_MS);
    const pdb = all.find((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === 'stratus-worker')!;
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('each ServiceMonitor selects a Service by its labels and names one of its ports', () => {
    for (const sm of all.filter((m) => m.kind === 'ServiceMonitor')) {
      const svc = all.find(
        (m) =>
          m.kind === 'Service' &&
          Object.entries(sm.spec.selector.matchLabels).every(
            ([k, v]) =>
              (m as unknown as { metadata: { labels: Record<string, string> } }).metadata.labels?.[k] === v,
          ),
      );
      expect(svc, sm.metadata.name).toBeDefined();
      expect(svc!.spec.ports.map((p: { name: string }) => p.name)).toContain(sm.spec.endpoints[0].port);
    }
  });
});

describe('compose file', () => {
  const file = join(DEPLOY, 'compose/compose.yaml');

  it('docker-compose accepts it', () => {
    expect(() => run('docker-compose', ['-f', file, 'config', '-q'])).not.toThrow();
  });

  it('runs PostgreSQL, Redis, the sim, two api and two worker replicas, HAProxy, Prometheus and Grafana', () => {
    const config = parse(run('docker-compose', ['-f', file, 'config'])) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
    };
    expect(Object.keys(config.services).sort()).toEqual(
      [
        'api-1',
        'api-2',
        'grafana',
        'haproxy',
        'postgres',
        'prometheus',
        'redis',
        'sim',
        'worker-1',
        'worker-2',
      ].sort(),
    );
    for (const name of ['api-1', 'api-2', 'worker-1', 'worker-2']) {
      const s = config.services[name]!;
      expect(s.command?.slice(0, 3)).toEqual(['start', '--role', name.replace(/-\d$/, '')]);
      expect(s.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(s.environment?.REDIS_URL).toBe('redis://redis:6379');
    }
    for (const name of ['worker-1', 'worker-2'])
      expect(config.services[name]!.environment?.HEALTH_PORT).toBe('9090');
  });

  it('HAProxy checks /readyz on every api replica, and haproxy accepts its configuration', () => {
    const cfgPath = join(DEPLOY, 'compose/haproxy.cfg');
    const cfg = readFileSync(cfgPath, 'utf8');
    expect(cfg).toMatch(/option httpchk GET \/readyz/);
    expect([...cfg.matchAll(/^\s*server (\S+) (\S+):8080 check/gm)].map((m) => m[1])).toEqual([
      'api-1',
      'api-2',
    ]);
    expect(run('haproxy', ['-c', '-f', cfgPath])).toMatch(/Configuration file is valid/);
  });

  it('Prometheus scrapes every replica where it serves /metrics', () => {
    const prom = parse(readFileSync(join(DEPLOY, 'compose/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = Object.fromEntries(
      prom.scrape_configs.map((s) => [s.job_name, s.static_configs[0]!.targets]),
    );
    expect(targets['stratus-api']).toEqual(['api-1:8080', 'api-2:8080']);
    expect(targets['stratus-worker']).toEqual(['worker-1:9090', 'worker-2:9090']);
  });

  it('Grafana is provisioned with the checked-in dashboard and a Prometheus data source', () => {
    const prov = join(DEPLOY, 'observability/grafana/provisioning');
    expect(readFileSync(join(prov, 'datasources/prometheus.yaml'), 'utf8')).toMatch(
      /url: http:\/\/prometheus:9090/,
    );
    expect(readFileSync(join(prov, 'dashboards/stratus.yaml'), 'utf8')).toMatch(
      /path: \/var\/lib\/grafana\/dashboards/,
    );
    expect(existsSync(join(DEPLOY, 'observability/grafana/dashboards/stratus.json'))).toBe(true);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const finalStage = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));

  it('builds in one stage and runs from another, on the Node.js major the package needs', () => {
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms[0]).toMatch(/ AS build$/);
    const engines = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    const major = /(\d+)/.exec(engines)![1];
    for (const f of froms) expect(f).toMatch(new RegExp(`^FROM node:${major}\\b`));
    expect(finalStage.some((l) => l.startsWith('COPY --from=build'))).toBe(true);
    expect(finalStage.some((l) => /npm (ci|install)/.test(l))).toBe(false);
  });

  it('runs as a non-root user, with node itself as PID 1 and a health check', () => {
    const user = finalStage.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    // Exec form: the signal goes to node, not to a shell that would swallow it.
    expect(finalStage.find((l) => l.startsWith('ENTRYPOINT '))).toMatch(
      /^ENTRYPOINT \["node", "bin\/stratus\.js"\]$/,
    );
    expect(finalStage.find((l) => l.startsWith('STOPSIGNAL '))).toBe('STOPSIGNAL SIGTERM');
    expect(finalStage.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/\/healthz/);
  });

  it('copies only paths that exist, and leaves local state out of the build context', () => {
    for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
      const paths = l.split(/\s+/).slice(1, -1);
      for (const p of paths) expect(existsSync(join(ROOT, p)), p).toBe(true);
    }
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'dist', '.stratus', '.git']) expect(ignore).toContain(p);
  });
});
