// The kinds Stratus serves. Adding a kind is a folder beside these and a line here.
import type { KindDefinition } from '../core/resources/kind.js';
import { KindRegistry } from '../core/resources/registry.js';
import { autoscalingGroups } from './autoscaling-groups/index.js';
import { clusters } from './clusters/index.js';
import { cronJobs } from './cron-jobs/index.js';
import { databases } from './databases/index.js';
import { deployments } from './deployments/index.js';
import { dnsRecords } from './dns-records/index.js';
import { dnsZones } from './dns-zones/index.js';
import { instances } from './instances/index.js';
import { loadBalancers } from './load-balancers/index.js';
import { networks } from './networks/index.js';
import { pipelineRuns } from './pipeline-runs/index.js';
import { pipelines } from './pipelines/index.js';
import { snapshots } from './snapshots/index.js';
import { subnets } from './subnets/index.js';
import { volumes } from './volumes/index.js';

/** Every built-in kind, referenced kinds first. */
export const builtinKinds: readonly KindDefinition[] = [
  networks,
  subnets,
  instances,
  volumes,
  snapshots,
  loadBalancers,
  dnsZones,
  dnsRecords,
  databases,
  autoscalingGroups,
  deployments,
  clusters,
  cronJobs,
  pipelines,
  pipelineRuns,
];

/** A registry of the built-in kinds. */
export function builtinRegistry(): KindRegistry {
  return new KindRegistry(builtinKinds);
}
