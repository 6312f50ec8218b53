// The web console in a real browser (Debian's Chromium, driven by playwright-core) against one
// running control plane (`stratus start`, role all, on a fresh PostgreSQL database, a `stratus
// sim` as its cloud): log in with an operator's admin key, create a network and an instance from
// the forms the kinds' schemas give, watch the instance become running from the live watch stream
// (the resource pages never poll), read its conditions, delete it, then visit every system page,
// redrive a dead letter, and open a drill report with its timeline.
// Every request the page makes must stay on 127.0.0.1, and no CSP violation may be reported.
// Screenshots go to test-artifacts/console/.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleBuildIsStale } from '../../scripts/build-state.mjs';
import { createAuthService, OPERATOR_TENANT } from '../../src/control/auth/index.js';
import { goodRun } from '../../src/drill/check/testing.js';
import { writeReport } from '../../src/drill/report/index.js';
import { writeRunDir } from '../../src/drill/run-dir.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { until } from '../helpers/poll.js';
import { type SimCloud, startSim } from '../helpers/sim-process.js';
import { isReady, killAllStratus, ROOT, spawnStratus } from '../helpers/stratus-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`skipping the console test: ${CHROMIUM} is absent (apt-get install chromium)`);

const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

describe.skipIf(!haveChromium)('the web console', () => {
  let base: string;
  let key: string;
  let context: BrowserContext;
  let page: Page;
  let database: TestDatabase;
  let sim: SimCloud;
  /** The zone whose reconcile job the backend's refusal dead-letters. */
  let deadZoneId: string;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    // Built once, and only when its sources are newer than dist/console.
    if (consoleBuildIsStale()) {
      const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      if (built.status !== 0) throw new Error(`the console did not build: ${built.stderr}`);
    }
    // A reports directory with one real report, and a link in it to a report outside it.
    const reports = tmp('stratus-reports-');
    await writeRunDir(join(reports, 'run-1'), goodRun());
    await writeReport(join(reports, 'run-1'));
    const outside = tmp('stratus-outside-');
    writeFileSync(join(outside, 'report.json'), '{"secret":true}\n');
    symlinkSync(outside, join(reports, 'escape'));

    [database, sim] = await Promise.all([createTestDatabase(), startSim()]);
    const server = spawnStratus(['start', '--port', '0', '--drill-reports-dir', reports], {
      DATABASE_URL: database.url,
      CLOUD_URL: sim.url,
    });
    const [ready] = await Promise.all([
      server.waitForLog(isReady, 60_000),
      (async () => {
        context = await chromium.launchPersistentContext(tmp('stratus-chromium-'), {
          executablePath: CHROMIUM,
          headless: true,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
      })(),
    ]);
    base = String(ready.url).replace(/\/$/, '');
    // The operator's key, made the way `stratus admin create-key` makes it.
    const db = createPgDatabase({ connectionString: database.url, max: 1 });
    const auth = createAuthService({ db });
    try {
      key = (await auth.createKey(OPERATOR_TENANT, { name: 'console test', role: 'admin' })).token;
    } finally {
      await auth.close();
      await db.close();
    }
    // A dead letter for the dead-letters page to redrive: the backend refuses this zone once, a
    // refusal of the input fails the pass for good, so its job is dead-lettered after one attempt;
    // the rule is spent by then, and the redriven job succeeds.
    await sim.addFaults({
      backend: 'dns',
      operation: 'createZone',
      resource: 'zone/name:dead-letter.test',
      effect: { kind: 'error', code: 'BACKEND_INVALID_INPUT' },
      times: 1,
    });
    const created = await fetch(`${base}/v1/dns-zones`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dead-letter', spec: { domain: 'dead-letter.test' } }),
    });
    expect(created.status).toBe(202);
    deadZoneId = ((await created.json()) as { resource: { id: string } }).resource.id;
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      // The 401 and 422 the walk-through provokes (a wrong key, a bad range) are answers, not
      // problems; a CSP violation or a script error is one.
      if (m.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(m.text()))
        problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await killAllStratus();
    await database?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A GET of the API with the operator's key, its JSON answer read as `T`. */
  const getJson = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as T;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const row = (table: string, text: string) =>
    page.getByRole('table', { name: table }).locator('tr', { hasText: text });

  it('serves the console with a strict CSP, cache headers, and drill reports that stay inside their directory', async () => {
    const moved = await fetch(`${base}/console`, { redirect: 'manual' });
    expect([moved.status, moved.headers.get('location')]).toEqual([308, '/console/']);
    const index = await fetch(`${base}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await index.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect(html).not.toMatch(/<script>|https?:\/\//);
    const js = await fetch(`${base}${asset}`);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const list = (await (await get('/v1/system/drill-reports')).json()) as { items: { name: string }[] };
    expect(list.items.map((i) => i.name)).toEqual(['run-1']);
    const traversal = await get('/v1/system/drill-reports/..%2F..%2Fetc');
    expect(traversal.status).toBe(400);
    expect(((await traversal.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('/params/name');
    expect((await get('/v1/system/drill-reports/escape')).status).toBe(400);
    expect((await get('/v1/system/drill-reports/nope')).status).toBe(404);
    expect((await get('/v1/system/drill-reports/run-1/timeline.svg')).headers.get('content-type')).toMatch(
      /^image\/svg\+xml/,
    );
  });

  it('logs in, creates a network and an instance, watches it run, deletes it, shows every system page and redrives a dead letter', {
    timeout: 60_000,
  }, async () => {
    try {
      await walkThrough();
    } catch (error) {
      // What the page showed when it went wrong, for whoever reads the failure.
      await shot('failure').catch(() => {});
      writeFileSync(join(ARTIFACTS, 'failure.html'), await page.content().catch(() => ''));
      throw error;
    }
  });

  async function walkThrough() {
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill('stratus_wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page
      .getByRole('alert')
      .getByText(/unknown or revoked/)
      .waitFor();
    await shot('login');
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'console' }).getByRole('link', { name: 'networks' }).click();

    // A network; a bad range first, answered next to its field.
    await page.getByRole('button', { name: 'New networks' }).click();
    const netForm = page.getByRole('form', { name: 'create networks' });
    await netForm.getByLabel('name').fill('web-net');
    await netForm.getByLabel('cidr').fill('10.30.0.0/33');
    await netForm.getByRole('button', { name: 'Create' }).click();
    await netForm.locator('.field.invalid', { hasText: 'cidr' }).waitFor();
    await shot('network-invalid');
    await netForm.getByLabel('cidr').fill('10.30.0.0/24');
    await netForm.getByRole('button', { name: 'Create' }).click();
    await row('networks', 'web-net').getByText('Ready', { exact: true }).waitFor();

    // An instance on it; the network is offered by name.
    await page.getByRole('link', { name: 'instances' }).click();
    await page.getByRole('button', { name: 'New instances' }).click();
    const form = page.getByRole('form', { name: 'create instances' });
    await form.getByLabel('name').fill('web-1');
    await form.getByLabel('image').fill('debian-12');
    await form.getByLabel('size').selectOption('small');
    const network = form.getByRole('combobox', { name: 'network', exact: true });
    await network.locator('option', { hasText: 'web-net' }).waitFor({ state: 'attached' });
    await network.selectOption({
      label: (await network.locator('option', { hasText: 'web-net' }).textContent())!,
    });
    await form.getByRole('button', { name: 'Create' }).click();
    await page
      .getByRole('status')
      .getByText(/create of instances\/inst_/)
      .waitFor();
    await row('instances', 'web-1').getByRole('link', { name: 'web-1' }).click();

    // Running, from the live stream: this page reads the resource again only on its events.
    await page.locator('pre[data-part="outputs"]', { hasText: '"powerState": "running"' }).waitFor();
    const ready = row('conditions', 'Ready');
    await ready.getByText('True', { exact: true }).waitFor();
    expect(await ready.textContent()).toMatch(/Ready/);
    await shot('instance-running');

    // An action with a body gets a form drawn from its schema: resize to medium.
    await page.getByRole('button', { name: 'resize', exact: true }).click();
    const resize = page.getByRole('form', { name: 'resize instances' });
    await resize.getByLabel('size').selectOption('medium');
    await shot('instance-resize');
    await resize.getByRole('button', { name: 'resize' }).click();
    await page
      .getByRole('status')
      .getByText(/resize of instances\/inst_/)
      .waitFor();
    await resize.waitFor({ state: 'detached' });
    await page.locator('pre[data-part="spec"]', { hasText: '"size": "medium"' }).waitFor();

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(/is gone \(deleted\)/).waitFor();

    await page.getByRole('link', { name: 'events' }).click();
    await row('events', 'instances/web-1').filter({ hasText: 'Deleted' }).first().waitFor();
    await shot('events');
    await page.getByRole('link', { name: 'operations', exact: true }).click();
    await row('operations', 'delete').getByText('succeeded').waitFor();
    await shot('operations');

    const systemPages: Array<[string, string, string]> = [
      ['replicas', 'replicas', 'all'],
      ['leaders', 'leaders', 'accounting'],
      ['queues', 'queues', 'jobs'],
      ['breakers', 'breakers', 'compute'],
      ['controllers', 'controllers', 'accounting'],
    ];
    for (const [link, table, text] of systemPages) {
      await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
      await row(table, text).first().waitFor();
      await shot(`system-${link}`);
    }
    // The zone's dead letter, redriven by its button: it leaves the list, and the zone is made.
    let jobKey: string | undefined;
    await until(
      async () => {
        const letters = await getJson<{ items: Array<{ jobKey: string; resource: { id: string } | null }> }>(
          '/v1/system/dead-letters?kind=reconcile',
        );
        jobKey = letters.items.find((d) => d.resource?.id === deadZoneId)?.jobKey;
        return jobKey !== undefined;
      },
      20_000,
      "the zone's dead letter",
    );
    await page.getByRole('link', { name: 'dead-letters' }).click();
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    const letter = row('dead letters', jobKey!);
    await letter.waitFor();
    await shot('system-dead-letters');
    // The row's last column (its button) is on screen, not pushed off by its long ids.
    const redrive = letter.getByRole('button', { name: 'Redrive' });
    const box = await redrive.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x + box!.width).toBeLessThanOrEqual(page.viewportSize()!.width);
    await redrive.click();
    await page.getByRole('status').getByText(`redriven ${jobKey}`).waitFor();
    await letter.waitFor({ state: 'detached' });
    await until(
      async () =>
        (await getJson<{ status?: { phase: string } }>(`/v1/dns-zones/${deadZoneId}`)).status?.phase ===
        'Ready',
      20_000,
      'the redriven zone to be Ready',
    );

    await page.getByRole('link', { name: 'drill reports' }).click();
    await row('drill reports', 'run-1').getByRole('link', { name: 'run-1' }).click();
    const timeline = page.getByRole('img', { name: 'timeline of drill run-1' });
    await timeline.waitFor();
    // Decoded, not only in the page: an SVG the browser could not draw has no width.
    await page.waitForFunction("document.querySelector('img.timeline')?.naturalWidth > 0");
    await row('guarantees', 'G1').getByText('holds').waitFor();
    await shot('drill-report');

    const hosts = new Set(
      requests.map((u) => (u.startsWith('blob:') ? new URL(u.slice(5)).hostname : new URL(u).hostname)),
    );
    expect([...hosts]).toEqual(['127.0.0.1']);
    expect(problems).toEqual([]);
  }
});
