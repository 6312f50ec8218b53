// Scenario files (drills/scenarios/<name>.json): a name, a description, and steps of `at`,
// `action`, `target` and `for` (durations as `10s`, `500ms` or milliseconds). Loading checks
// every field and names the first bad one: a misspelt step would otherwise inject nothing and
// the drill would pass for the wrong reason.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FaultAction, FaultStep, Scenario } from '../evidence.js';
import { parseDuration } from './duration.js';

/** Every action a step may name. */
export const FAULT_ACTIONS: readonly FaultAction[] = [
  'kill',
  'pause',
  'restart',
  'drop-db-sessions',
  'blackhole-db',
  'blackhole-redis',
  'redis-flushall',
  'redis-restart',
  'backend-outage',
  'backend-slow',
  'backend-hang',
  'database-primary-down',
  'rolling-restart',
];

/** Actions that last (`for` is required and > 0). */
const LASTING = new Set<FaultAction>([
  'pause',
  'blackhole-db',
  'blackhole-redis',
  'backend-outage',
  'backend-slow',
  'backend-hang',
  'database-primary-down',
]);

/** A scenario file that is not one; `field` is the JSON path of the first problem. */
export class ScenarioError extends Error {
  readonly code = 'DRILL_SCENARIO';
  override readonly name = 'ScenarioError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export function isScenarioError(err: unknown): err is ScenarioError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'DRILL_SCENARIO';
}

const TARGET =
  /^(api|worker|all|redis|(api|worker)-\d{1,3}|leader:[a-z][a-z0-9-]{0,39}|backend:(compute|network|storage|dns|lb|webhook|database|all))$/;

/** Parses a scenario document (`where` names it in errors). */
export function parseScenario(doc: unknown, where: string): Scenario {
  const d = doc as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    throw new ScenarioError(where, 'must be an object');
  for (const key of Object.keys(d))
    if (!['name', 'description', 'steps', 'chaos'].includes(key))
      throw new ScenarioError(`${where}.${key}`, 'is not a field of a scenario');
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9-]{0,63}$/.test(d.name))
    throw new ScenarioError(`${where}.name`, 'must be a lowercase name (a-z, 0-9, -)');
  if (typeof d.description !== 'string') throw new ScenarioError(`${where}.description`, 'must be a string');
  let chaos: Scenario['chaos'];
  if (d.chaos !== undefined) {
    const c = d.chaos as Record<string, unknown>;
    const everyMs = typeof c === 'object' && c !== null ? parseDuration(c.every) : undefined;
    if (everyMs === undefined || everyMs < 100)
      throw new ScenarioError(`${where}.chaos.every`, 'must be a duration of at least 100ms');
    chaos = { everyMs };
  }
  if (!Array.isArray(d.steps) || (d.steps.length === 0 && chaos === undefined))
    throw new ScenarioError(`${where}.steps`, 'must be a non-empty list');
  const steps = d.steps.map((s: unknown, i: number): FaultStep => {
    const at = `${where}.steps[${i}]`;
    const step = s as Record<string, unknown>;
    if (typeof step !== 'object' || step === null || Array.isArray(step))
      throw new ScenarioError(at, 'must be an object');
    for (const key of Object.keys(step))
      if (!['at', 'action', 'target', 'for'].includes(key))
        throw new ScenarioError(`${at}.${key}`, 'is not a field of a step (at, action, target, for)');
    const atMs = parseDuration(step.at);
    if (atMs === undefined)
      throw new ScenarioError(`${at}.at`, 'must be a duration (10s, 500ms, or milliseconds)');
    if (!FAULT_ACTIONS.includes(step.action as FaultAction))
      throw new ScenarioError(`${at}.action`, `must be one of ${FAULT_ACTIONS.join(', ')}`);
    const action = step.action as FaultAction;
    if (typeof step.target !== 'string' || !TARGET.test(step.target))
      throw new ScenarioError(
        `${at}.target`,
        'must be api, worker, api-N, worker-N, leader:<key>, redis, backend:<compute|network|storage|dns|lb|webhook|database|all> or all',
      );
    if ((action === 'database-primary-down') !== (step.target === 'backend:database'))
      throw new ScenarioError(
        `${at}.target`,
        action === 'database-primary-down'
          ? 'must be backend:database for database-primary-down'
          : `backend:database takes only database-primary-down, not ${action}`,
      );
    const forMs = step.for === undefined ? undefined : parseDuration(step.for);
    if (step.for !== undefined && forMs === undefined)
      throw new ScenarioError(`${at}.for`, 'must be a duration');
    if (LASTING.has(action) && !(forMs && forMs > 0))
      throw new ScenarioError(`${at}.for`, `is required for ${action} (how long it lasts)`);
    return { atMs, action, target: step.target, ...(forMs === undefined ? {} : { forMs }) };
  });
  return { name: d.name, description: d.description, steps, ...(chaos ? { chaos } : {}) };
}

/** The folder of the shipped scenarios. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../../drills/scenarios/', import.meta.url));

/** A scenario by name (a shipped one) or by path (a file of the user's). */
export function loadScenario(nameOrPath: string): Scenario {
  const file = nameOrPath.endsWith('.json') ? nameOrPath : `${SCENARIO_DIR}${nameOrPath}.json`;
  if (!existsSync(file)) throw new ScenarioError(nameOrPath, `no such scenario (no file ${file})`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError(nameOrPath, `is not JSON: ${(err as Error).message}`);
  }
  return parseScenario(doc, nameOrPath);
}
