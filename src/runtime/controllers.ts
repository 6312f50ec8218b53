// The singleton controllers of a worker process (DESIGN.md §10), each under the guard of its
// own leadership key: one definition per controller, one framework runs them all.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Config, optionsAt } from '../config/index.js';
import { createResourceService, type ResourceService } from '../control/service.js';
import { accountingController } from '../controllers/accounting/controller.js';
import { autoscalingController } from '../controllers/autoscaling/controller.js';
import { clustersController } from '../controllers/clusters/controller.js';
import { cronController } from '../controllers/cron/controller.js';
import { databaseFailoverController } from '../controllers/databases/failover.js';
import { replicaMonitorController } from '../controllers/databases/monitor.js';
import { deploymentsController } from '../controllers/deployments/controller.js';
import type { ControllerDefinition } from '../controllers/framework/define.js';
import { controllerGuard } from '../controllers/framework/guard.js';
import { createControllerMetrics } from '../controllers/framework/metrics.js';
import { eventWake } from '../controllers/framework/wake.js';
import { gcController } from '../controllers/gc/controller.js';
import { healingController } from '../controllers/healing/controller.js';
import { housekeepingController } from '../controllers/housekeeping/controller.js';
import { lbSyncController } from '../controllers/lb-sync/controller.js';
import { pipelinesController } from '../controllers/pipelines/controller.js';
import { storageLifecycleController } from '../controllers/storage/controller.js';
import type { BackendPorts } from '../core/ports/index.js';
import type { Database } from '../ha/db/database.js';
import { createLeaderMetrics } from '../ha/leader/metrics.js';
import type { Elector } from '../ha/leader/port.js';
import type { Runnable } from '../ha/lifecycle/runnable.js';
import { builtinRegistry } from '../kinds/index.js';
import { controlPlaneKeys } from './leader-keys.js';

/** What the controllers of a process need from it. */
export interface ControllerWiring {
  readonly config: Config;
  readonly db: Database;
  readonly elector: Elector;
  readonly logger: Logger;
  readonly registry: Registry;
  /**
   * The backends (already behind their resilience policies): the compute controllers read them,
   * the database controllers fence and promote through them, cron's calls go through the
   * webhook port.
   */
  readonly ports: BackendPorts;
}

/** Every controller this process runs when it leads its key. */
export function controllerDefinitions(
  config: Config,
  deps: { readonly service: ResourceService; readonly ports: BackendPorts },
): ControllerDefinition[] {
  const compute = { service: deps.service, compute: deps.ports.compute, ...optionsAt(config, 'compute') };
  return [
    accountingController({ leaderKey: controlPlaneKeys.accounting, ...optionsAt(config, 'accounting') }),
    replicaMonitorController({
      leaderKey: controlPlaneKeys.replicaMonitor,
      database: deps.ports.database,
      ...optionsAt(config, 'replicaMonitor'),
    }),
    databaseFailoverController({
      leaderKey: controlPlaneKeys.databaseFailover,
      database: deps.ports.database,
      caller: config.nodeId,
      ...optionsAt(config, 'databaseFailover'),
    }),
    lbSyncController({ leaderKey: controlPlaneKeys.lbSync, ...compute }),
    autoscalingController({
      leaderKey: controlPlaneKeys.autoscaling,
      ...compute,
      ...optionsAt(config, 'autoscaling'),
    }),
    deploymentsController({ leaderKey: controlPlaneKeys.deployments, ...compute }),
    clustersController({ leaderKey: controlPlaneKeys.clusters, ...compute }),
    healingController({
      leaderKey: controlPlaneKeys.healing,
      ...compute,
      limits: optionsAt(config, 'healing'),
    }),
    cronController({
      leaderKey: controlPlaneKeys.cron,
      webhook: deps.ports.webhook,
      service: deps.service,
      ...optionsAt(config, 'cron'),
    }),
    storageLifecycleController({ leaderKey: controlPlaneKeys.storageLifecycle, service: deps.service }),
    pipelinesController({
      leaderKey: controlPlaneKeys.pipelines,
      service: deps.service,
      runner: deps.ports.runner,
      ...optionsAt(config, 'pipelines'),
    }),
    gcController({
      leaderKey: controlPlaneKeys.garbageCollector,
      ports: deps.ports,
      ...optionsAt(config, 'gc'),
    }),
    housekeepingController({
      leaderKey: controlPlaneKeys.housekeeping,
      compute: deps.ports.compute,
      ...optionsAt(config, 'housekeeping'),
    }),
  ];
}

/** One guarded runnable per controller, sharing one wake source and one set of metrics. */
export function controllerRunnables(w: ControllerWiring): Runnable[] {
  const logger = w.logger.child({ component: 'controllers' });
  const wake = eventWake({
    db: w.db,
    onError: (err) => logger.warn({ err }, 'reading events to wake controllers failed'),
  });
  const metrics = createControllerMetrics(w.registry);
  const leaderMetrics = createLeaderMetrics(w.registry);
  // The compute controllers write resources through the one write path, in their fenced
  // transactions.
  const service = createResourceService({ db: w.db, kinds: builtinRegistry() });
  return controllerDefinitions(w.config, { service, ports: w.ports }).map((def) =>
    controllerGuard(def, {
      db: w.db,
      elector: w.elector,
      logger,
      metrics,
      wake,
      guard: {
        ...optionsAt(w.config, 'guard'),
        logger,
        metrics: leaderMetrics,
        onEvent: (event) => {
          if (event.type === 'elected')
            logger.info({ key: event.key, epoch: event.epoch }, `leading ${event.key}`);
          else if (event.type === 'ended')
            logger.info(
              { key: event.key, epoch: event.epoch, reason: event.reason },
              `stopped leading ${event.key}`,
            );
        },
      },
    }),
  );
}
