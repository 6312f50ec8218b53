export { chooseReplica, type FailoverPlan, planFailover } from './choose.js';
export { type DatabaseFailoverOptions, databaseFailoverController } from './failover.js';
export { type ReplicaMonitorOptions, replicaConditions, replicaMonitorController } from './monitor.js';
