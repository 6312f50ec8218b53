import { Counter, Histogram, type Registry } from 'prom-client';

/** What the controller framework reports; one instance serves every controller of a process. */
export interface ControllerMetrics {
  passed(controller: string, seconds: number, outcome: 'ok' | 'error'): void;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * On the given registry: `stratus_controller_passes_total{controller,outcome}`,
 * `stratus_controller_pass_seconds{controller}` and `stratus_controller_errors_total{controller}`.
 * Calling it twice with one registry returns metrics backed by the same series.
 */
export function createControllerMetrics(registry: Registry): ControllerMetrics {
  const passes = once(
    registry,
    'stratus_controller_passes_total',
    () =>
      new Counter({
        name: 'stratus_controller_passes_total',
        help: 'Passes of a singleton controller on this process, by outcome',
        labelNames: ['controller', 'outcome'],
        registers: [registry],
      }),
  );
  const seconds = once(
    registry,
    'stratus_controller_pass_seconds',
    () =>
      new Histogram({
        name: 'stratus_controller_pass_seconds',
        help: 'Duration of one pass of a singleton controller',
        labelNames: ['controller'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  const errors = once(
    registry,
    'stratus_controller_errors_total',
    () =>
      new Counter({
        name: 'stratus_controller_errors_total',
        help: 'Passes of a singleton controller that threw',
        labelNames: ['controller'],
        registers: [registry],
      }),
  );
  return {
    passed(controller, s, outcome) {
      passes.inc({ controller, outcome });
      seconds.observe({ controller }, s);
      if (outcome === 'error') errors.inc({ controller });
    },
  };
}
