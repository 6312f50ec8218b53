import { Counter, Gauge, type Registry } from 'prom-client';

/** What leader guards report; one instance may serve every guard of a process. */
export interface LeaderMetrics {
  /** This process began a term of `key`. */
  elected(key: string): void;
  /** This process's term of `key` ended (`reason`: a loss reason or `released`). */
  ended(key: string, reason: string): void;
}

/**
 * `stratus_leader{key}` (1 while this process leads the key) and
 * `stratus_leader_transitions_total{key,transition}` on the given registry. Calling it twice
 * with one registry returns metrics backed by the same series.
 */
export function createLeaderMetrics(registry: Registry): LeaderMetrics {
  const leader =
    (registry.getSingleMetric('stratus_leader') as Gauge<'key'> | undefined) ??
    new Gauge({
      name: 'stratus_leader',
      help: '1 while this process leads the leadership key, else 0',
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
  return {
    elected(key) {
      leader.set({ key }, 1);
      transitions.inc({ key, transition: 'elected' });
    },
    ended(key, reason) {
      leader.set({ key }, 0);
      transitions.inc({ key, transition: reason });
    },
  };
}
