import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { goodRun } from './check/testing.js';
import {
  isRunDirError,
  parseEvidence,
  parseFaults,
  parseHistory,
  readRunDir,
  writeRunDir,
} from './run-dir.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-run-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('run directory', () => {
  it('reads back what it wrote, one history event per line', async () => {
    const dir = await tempDir();
    const run = goodRun();
    await writeRunDir(dir, run);
    expect(await readRunDir(dir)).toEqual(run);
    const lines = (await readFile(join(dir, 'history.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(run.history.length);
  });

  it('takes terms and leases from before the load started (negative times), not a request', async () => {
    const run = goodRun();
    const early = {
      ...run.evidence,
      terms: [{ ...run.evidence.terms[0]!, acquiredT: -4_200 }, ...run.evidence.terms.slice(1)],
    };
    expect(parseEvidence(JSON.stringify(early)).terms[0]!.acquiredT).toBe(-4_200);
    const good = JSON.stringify(run.history[0]);
    const beforeT0 = JSON.stringify({ ...run.history[0], t: -1 });
    expect(thrown(() => parseHistory(`${good}\n${beforeT0}`)).message).toMatch(
      /^history\.ndjson line 2: \/t /,
    );
  });

  it('names the file and line of a history record that is not JSON or not a record', () => {
    const good = JSON.stringify(goodRun().history[0]);
    const notJson = thrown(() => parseHistory(`${good}\n\n{"type":`));
    expect(isRunDirError(notJson)).toBe(true);
    expect(notJson.message).toMatch(/^history\.ndjson line 3: not JSON/);
    const noTime = thrown(() =>
      parseHistory(`${good}\n{"type":"attempt","req":1,"attempt":1,"latencyMs":3}`),
    );
    expect(noTime.message).toBe('history.ndjson line 2: the record lacks t');
    const badOutcome = thrown(() =>
      parseHistory('{"type":"complete","req":1,"t":5,"outcome":"maybe","attempts":1}'),
    );
    expect(badOutcome.message).toMatch(/^history\.ndjson line 1: \/outcome /);
    const badType = thrown(() => parseHistory('{"type":"retry","req":1}'));
    expect(badType.message).toBe(
      'history.ndjson line 1: /type must be invoke, attempt or complete (got "retry")',
    );
  });

  it('names the field of a malformed faults or evidence file, and the line where JSON stops', () => {
    const fault = { ...goodRun().faults[0]!, action: 'explode' };
    expect(thrown(() => parseFaults(JSON.stringify([fault]))).message).toMatch(/^faults\.json: \/0\/action /);
    const evidence = {
      ...goodRun().evidence,
      terms: [{ key: 'k', epoch: 'one', holder: 'a', acquiredT: 0 }],
    };
    expect(thrown(() => parseEvidence(JSON.stringify(evidence))).message).toMatch(
      /^evidence\.json: \/terms\/0\/epoch /,
    );
    expect(thrown(() => parseEvidence('{\n  "version": 1,\n  oops\n}')).message).toMatch(
      /^evidence\.json line 3: not JSON/,
    );
  });

  it('names a missing file', async () => {
    const dir = await tempDir();
    await writeRunDir(dir, goodRun());
    await rm(join(dir, 'faults.json'));
    await expect(readRunDir(dir)).rejects.toThrow('faults.json: missing');
    await writeFile(join(dir, 'faults.json'), '[]');
    await expect(readRunDir(dir)).resolves.toMatchObject({ faults: [] });
  });
});
