import { Counter, Gauge, type Registry } from 'prom-client';

/** What leader guards report; one instance may serve every guard of a process. */
export interface LeaderMetrics {
  /** A guard for `key` runs here: the key is exposed (as not led) before any term. */
  following(key: string): void;
  /** This process began a term of `key` and holds it. */
  elected(key: string): void;
  /** The term of `key` is no longer held (lost or released), its singleton may still run. */
  deposed(key: string): void;
  /** This process's term of `key` ended and its guard moved on (`reason`: why it ended). */
  ended(key: string, reason: string): void;
  /** A singleton of `key` ignored its abort past the guard's grace and was given up. */
  singletonStuck(key: string): void;
}

/**
 * On the given registry: `stratus_leader{key}` (1 while this process holds the key's term,
 * 0 from the moment the term is lost or released, and 0 for a key this process never led),
 * `stratus_leader_transitions_total{key,transition}` and
 * `stratus_leader_singleton_stuck_total{key}`. Calling it twice with one registry returns
 * metrics backed by the same series.
 */
export function createLeaderMetrics(registry: Registry): LeaderMetrics {
  const leader =
    (registry.getSingleMetric('stratus_leader') as Gauge<'key'> | undefined) ??
    new Gauge({
      name: 'stratus_leader',
      help: '1 while this process holds the term of the leadership key, else 0',
      labelNames: ['key'],
      registers: [registry],
    });
  const transitions =
    (registry.getSingleMetric('stratus_leader_transitions_total') as
      | Counter<'key' | 'transition'>
      | undefined) ??
    new Counter({
      name: 'stratus_leader_transitions_total',
      help: 'Leadership transitions of this process: elected, or the reason a term ended',
      labelNames: ['key', 'transition'],
      registers: [registry],
    });
  const stuck =
    (registry.getSingleMetric('stratus_leader_singleton_stuck_total') as Counter<'key'> | undefined) ??
    new Counter({
      name: 'stratus_leader_singleton_stuck_total',
      help: 'Singletons that did not stop within the guard grace after their abort, and were given up',
      labelNames: ['key'],
      registers: [registry],
    });
  return {
    following(key) {
      leader.set({ key }, 0);
      stuck.inc({ key }, 0);
    },
    elected(key) {
      leader.set({ key }, 1);
      transitions.inc({ key, transition: 'elected' });
    },
    deposed(key) {
      leader.set({ key }, 0);
    },
    ended(key, reason) {
      leader.set({ key }, 0);
      transitions.inc({ key, transition: reason });
    },
    singletonStuck(key) {
      stuck.inc({ key });
    },
  };
}
