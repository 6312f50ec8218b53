// `stratus admin create-key`: the first key of an HA installation, made against the database
// and printed once; bad arguments exit 2 naming what is wrong.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseKey } from '../../src/control/auth/index.js';
import { migrate } from '../../src/ha/db/migrate.js';
import { createPgDatabase } from '../../src/ha/db/pg.js';
import { migrations } from '../../src/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { killAllStratus, spawnStratus } from '../helpers/stratus-process.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  const db = createPgDatabase({ connectionString: t.url });
  await migrate(db, migrations);
  await db.close();
});
afterAll(async () => {
  killAllStratus();
  await t?.drop();
});

it('creates a key in the database and prints it alone on stdout', async () => {
  const p = spawnStratus(['admin', 'create-key', '--tenant', 'local', '--role', 'admin', '--name', 'ops'], {
    DATABASE_URL: t.url,
  });
  expect((await p.exited).code).toBe(0);
  const out = p.logs.map((l) => l.raw).filter(Boolean);
  expect(out).toHaveLength(1);
  const parsed = parseKey(String(out[0]));
  expect(parsed).toBeDefined();
  expect(p.stderr.join('')).toContain(`created key ${parsed!.id} (admin of tenant local)`);
  const db = createPgDatabase({ connectionString: t.url });
  try {
    const { rows } = await db.query(
      'SELECT tenant, role, name, secret_hash FROM stratus_api_keys WHERE id = $1',
      [parsed!.id],
    );
    expect(rows[0]).toMatchObject({ tenant: 'local', role: 'admin', name: 'ops' });
    expect(String(rows[0]!.secret_hash)).not.toContain(parsed!.secret);
  } finally {
    await db.close();
  }
});

it('exits 2 on bad arguments and 1 for an unknown tenant', async () => {
  for (const [args, message] of [
    [['admin', 'create-key', '--role', 'admin'], '--tenant <id> is required'],
    [['admin', 'create-key', '--tenant', 'local', '--role', 'root'], '--role is required'],
    [['admin', 'create-key', '--tenant'], '--tenant needs a value'],
    [['admin', 'rotate'], 'unknown command "rotate"'],
  ] as const) {
    const p = spawnStratus([...args], { DATABASE_URL: t.url });
    expect((await p.exited).code, args.join(' ')).toBe(2);
    expect(p.stderr.join('')).toContain(message);
  }
  const p = spawnStratus(['admin', 'create-key', '--tenant', 'nobody', '--role', 'viewer'], {
    DATABASE_URL: t.url,
  });
  expect((await p.exited).code).toBe(1);
  expect(p.stderr.join('')).toContain('no tenant nobody');
});
