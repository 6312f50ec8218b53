// `stratus drill run <scenario...>`: a real cluster on this machine, load through HAProxy,
// faults on a schedule, then the checker's report of the run directory it leaves (the one
// `stratus drill report DIR` re-renders). docs/drill-run.md, docs/drills.md.

import { parseDuration } from '../drill/faults/duration.js';
import { isScenarioError } from '../drill/faults/scenario.js';
import type { RunOptions } from '../drill/run/run.js';

const EXIT_USAGE = 2;

export const DRILL_USAGE = `Usage: stratus drill run <scenario...> [options]
       stratus drill report DIR [--gate FILE]

  <scenario>              a shipped scenario (drills/scenarios/<name>.json) or a path to a .json file
  --replicas api=2,worker=2   replicas per role (default api=2,worker=2)
  --duration 60s          how long the load runs (default 60s); the scenarios share it in order
  --rate 20               requests started per second, open loop (default 20)
  --seed 1                seeds the load, the targets and chaos (default 1)
  --out DIR               the run directory (default drill-runs/<time>)
  --gate FILE             release gates for the report (passed to the checker)
  --database-url URL      PostgreSQL to create the run's database on (default $DATABASE_URL,
                          else postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url URL         a Redis to use with a fresh key prefix (default: the drill's own
                          redis-server on a free port)
  --keep                  keep the run's database
  --settle 120s           how long to wait for every operation to end after the load
  --max-in-flight 200     requests in flight at most (more are shed, and counted)
  --chaos-every D         the chaos scenario's step interval (default its file's, 4s)

Exit status: 0 the run completed, every guarantee held and every gate passed; 1 a guarantee
broke or a gate was missed (each named on stderr; the report is in the run directory), or the
run could not complete; 2 invalid command line.
`;

/** A command line the drill cannot take; the message names the flag. */
export class UsageError extends Error {}

function parseReplicas(value: string): Record<'api' | 'worker', number> {
  const out = { api: 0, worker: 0 };
  for (const part of value.split(',')) {
    const m = /^(api|worker)=(\d{1,2})$/.exec(part.trim());
    if (!m) throw new UsageError(`--replicas: ${JSON.stringify(part)} is not api=N or worker=N`);
    out[m[1] as 'api' | 'worker'] = Number(m[2]);
  }
  if (out.api < 1 || out.worker < 1)
    throw new UsageError('--replicas: at least one api and one worker replica');
  return out;
}

function positive(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new UsageError(`${flag}: must be a number from 0 to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`${flag}: must be a duration (60s, 500ms, 30m), got ${JSON.stringify(value)}`);
  return ms;
}

/** The options of a `drill run` command line. */
export function parseRunArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Omit<RunOptions, 'progress' | 'signal'> {
  const scenarios: string[] = [];
  const flags = new Map<string, string>();
  const bare = new Set(['--keep']);
  const known = [
    '--replicas',
    '--duration',
    '--rate',
    '--seed',
    '--out',
    '--gate',
    '--database-url',
    '--redis-url',
    '--settle',
    '--max-in-flight',
    '--chaos-every',
  ];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      scenarios.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (bare.has(name)) {
      flags.set(name, 'true');
      continue;
    }
    if (!known.includes(name)) throw new UsageError(`unknown option ${name}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`${name}: needs a value`);
    flags.set(name, value);
  }
  if (scenarios.length === 0) throw new UsageError('name at least one scenario');
  const seed = Number(flags.get('--seed') ?? '1');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError('--seed: must be a non-negative integer');
  const chaosEvery = flags.get('--chaos-every');
  const gate = flags.get('--gate');
  const redisUrl = flags.get('--redis-url') ?? undefined;
  return {
    scenarios,
    replicas: parseReplicas(flags.get('--replicas') ?? 'api=2,worker=2'),
    durationMs: duration('--duration', flags.get('--duration') ?? '60s'),
    ratePerS: positive('--rate', flags.get('--rate') ?? '20', 1_000),
    seed,
    outDir: flags.get('--out') ?? `drill-runs/${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}`,
    ...(gate === undefined ? {} : { gateFile: gate }),
    databaseUrl:
      flags.get('--database-url') ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    ...(redisUrl === undefined ? {} : { redisUrl }),
    keep: flags.has('--keep'),
    settleMs: duration('--settle', flags.get('--settle') ?? '120s'),
    maxInFlight: Math.floor(positive('--max-in-flight', flags.get('--max-in-flight') ?? '200', 10_000)),
    ...(chaosEvery === undefined ? {} : { chaosEveryMs: duration('--chaos-every', chaosEvery) }),
  };
}

/** Progress: on a terminal, the load's status line is rewritten in place; otherwise plain lines. */
function progressPrinter(): (line: string) => void {
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let status = false;
  return (line) => {
    const stamp = `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] `;
    const transient =
      (line.startsWith('load ') && !line.startsWith('load done')) || line.startsWith('settling');
    if (tty && transient) {
      process.stderr.write(`\r\x1b[K${stamp}${line}`);
      status = true;
      return;
    }
    process.stderr.write(`${tty && status ? '\r\x1b[K' : ''}${stamp}${line}\n`);
    status = false;
  };
}

/** Runs `stratus drill <args>`; resolves with the exit status. */
export async function runDrillCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'report') return (await import('./drill-report.js')).drillReport(rest);
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    process.stdout.write(DRILL_USAGE);
    return sub === undefined ? EXIT_USAGE : 0;
  }
  if (sub !== 'run') {
    process.stderr.write(
      `stratus drill: unknown command ${JSON.stringify(sub)}: expected run or report\n\n${DRILL_USAGE}`,
    );
    return EXIT_USAGE;
  }
  const { runDrill, scenariosOf } = await import('../drill/run/run.js');
  let options: ReturnType<typeof parseRunArgs>;
  try {
    options = parseRunArgs(rest, process.env);
    scenariosOf(options);
  } catch (err) {
    if (err instanceof UsageError || isScenarioError(err)) {
      process.stderr.write(`stratus drill: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = progressPrinter();
  try {
    const result = await runDrill({ ...options, progress, signal: abort.signal });
    process.stdout.write(
      `${JSON.stringify({
        dir: result.dir,
        faults: result.faults,
        faultErrors: result.faultErrors,
        load: result.load,
        unsettled: result.unsettled,
      })}\n`,
    );
    // The verdicts: report.json, report.md and the timeline beside the run's files.
    const { drillReport } = await import('./drill-report.js');
    return await drillReport([
      result.dir,
      ...(options.gateFile === undefined ? [] : ['--gate', options.gateFile]),
    ]);
  } catch (err) {
    progress(`drill failed: ${err instanceof Error ? err.message : String(err)}`);
    return abort.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
