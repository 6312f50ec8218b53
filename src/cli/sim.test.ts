import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig as load } from '../config/index.js';
import { loadSimConfig } from './sim.js';

describe('stratus sim settings', () => {
  it('defaults to port 7070, the default profile and no admin routes', () => {
    expect(loadSimConfig([], {})).toMatchObject({
      host: '127.0.0.1',
      port: 7_070,
      profile: { name: 'default' },
      adminToken: undefined,
      stateFile: undefined,
    });
  });

  it('takes flags over the environment', () => {
    const config = loadSimConfig(['--port', '0', '--profile', 'fast'], {
      SIM_PORT: '9',
      SIM_ADMIN_TOKEN: 'a-token-of-16-chars',
      SIM_STATE: '/tmp/w.json',
    });
    expect(config).toMatchObject({
      port: 0,
      profile: { name: 'fast' },
      adminToken: 'a-token-of-16-chars',
      stateFile: '/tmp/w.json',
    });
  });

  it('reads a profile file, taking what it leaves out from the default profile', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sim-profile-')), 'p.json');
    writeFileSync(file, JSON.stringify({ name: 'slow-boot', crashesPerHour: 2 }));
    expect(loadSimConfig(['--profile', file], {}).profile).toMatchObject({
      name: 'slow-boot',
      crashesPerHour: 2,
      instanceQuotaPerTenant: 100,
    });
    writeFileSync(file, JSON.stringify({ name: 'bad', stages: [{ name: 'x', kind: 'volume' }] }));
    expect(() => loadSimConfig(['--profile', file], {})).toThrow(
      `invalid --profile: ${file}: stages[0].kind must be instance`,
    );
  });

  it('names the setting and what it may be', () => {
    expect(() => loadSimConfig(['--port', '70000'], {})).toThrow(
      'invalid --port: "70000" is not an integer from 0 to 65535',
    );
    expect(() => loadSimConfig([], { SIM_ADMIN_TOKEN: 'short' })).toThrow(
      'invalid SIM_ADMIN_TOKEN (environment): an admin token needs at least 16 characters',
    );
    expect(() => loadSimConfig(['--profile', 'nope'], {})).toThrow(
      'invalid --profile: "nope" is neither fast, default nor',
    );
    expect(() => loadSimConfig(['--colour', 'red'], {})).toThrow("Unknown option '--colour'");
  });
});

describe('--cloud-url of stratus start', () => {
  it('takes an http URL from the flag or CLOUD_URL, and refuses anything else', () => {
    expect(load({ args: ['--cloud-url', 'http://127.0.0.1:7070'] }).cloudUrl).toBe('http://127.0.0.1:7070');
    expect(load({ env: { CLOUD_URL: 'https://sim.test' } }).cloudUrl).toBe('https://sim.test');
    expect(load().cloudUrl).toBeUndefined();
    expect(() => load({ args: ['--cloud-url', 'redis://x'] })).toThrow(
      'invalid --cloud-url: "redis://x" is not an http:// or https:// URL of a stratus sim',
    );
  });
});
