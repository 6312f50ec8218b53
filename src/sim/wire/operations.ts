// The wire form of every port operation, shared by the simulator's routes and the HTTP
// adapter: `POST /v1/<backend>/<operation>` with a JSON body naming each parameter and
// `options` (the signal stays on the client; it aborts the request). The answer is
// `{ "result": … }`, or NDJSON lines for a stream, or an `application/problem+json` error.

import type { BackendKind } from '../../core/ports/index.js';
import type { SchemaName } from './schemas.js';

/** How one operation travels. */
export interface WireOperation {
  /** Names and schemas of the positional parameters before the options, in order. */
  readonly params: readonly (readonly [string, SchemaName])[];
  /** Schema of the options (always the last parameter). */
  readonly options: SchemaName;
  /** The options are required (a destructive call: they carry the client token). */
  readonly mutation: boolean;
  /** The answer is a stream of items. */
  readonly stream: boolean;
}

const read = (...params: WireOperation['params']): WireOperation => ({
  params,
  options: params.length === 0 ? 'listOptions' : 'readOptions',
  mutation: false,
  stream: false,
});
const mutate = (...params: WireOperation['params']): WireOperation => ({
  params,
  options: 'mutationOptions',
  mutation: true,
  stream: false,
});
const ping: WireOperation = { params: [], options: 'readOptions', mutation: false, stream: false };
const byId = ['id', 'id'] as const;

/** Every operation of every port. */
export const WIRE: { readonly [K in BackendKind]: Readonly<Record<string, WireOperation>> } = {
  compute: {
    ping,
    createInstance: mutate(['spec', 'instanceSpec']),
    getInstance: read(byId),
    listInstances: read(),
    deleteInstance: mutate(byId),
    startInstance: mutate(byId),
    stopInstance: mutate(byId),
    resizeInstance: mutate(byId, ['size', 'size']),
    streamLogs: { params: [byId], options: 'logOptions', mutation: false, stream: true },
    streamStats: { params: [byId], options: 'readOptions', mutation: false, stream: true },
    pruneLogs: mutate(['before', 'time']),
  },
  network: {
    ping,
    createNetwork: mutate(['spec', 'networkSpec']),
    getNetwork: read(byId),
    listNetworks: read(),
    deleteNetwork: mutate(byId),
    allocateIp: { ...mutate(['networkId', 'id']), options: 'allocateOptions' },
    releaseIp: mutate(['allocation', 'ipAllocation']),
    attach: mutate(['attachment', 'networkAttachment']),
    detach: mutate(['attachment', 'networkAttachment']),
  },
  storage: {
    ping,
    createVolume: mutate(['spec', 'volumeSpec']),
    getVolume: read(byId),
    listVolumes: read(),
    deleteVolume: mutate(byId),
    attachVolume: mutate(['attachment', 'volumeAttachment']),
    detachVolume: mutate(['attachment', 'volumeAttachment']),
    resizeVolume: mutate(byId, ['sizeGiB', 'sizeGiB']),
    createSnapshot: mutate(['spec', 'snapshotSpec']),
    deleteSnapshot: mutate(byId),
    listSnapshots: read(),
  },
  dns: {
    ping,
    createZone: mutate(['spec', 'zoneSpec']),
    getZone: read(byId),
    listZones: read(),
    deleteZone: mutate(byId),
    upsertRecord: mutate(['zoneId', 'id'], ['record', 'dnsRecord']),
    deleteRecord: mutate(['key', 'recordKey']),
    listRecords: { params: [['zoneId', 'id']], options: 'listOptions', mutation: false, stream: false },
  },
  loadBalancer: {
    ping,
    createLoadBalancer: mutate(['spec', 'loadBalancerSpec']),
    getLoadBalancer: read(byId),
    listLoadBalancers: read(),
    deleteLoadBalancer: mutate(byId),
    updateTargets: mutate(byId, ['targets', 'targets']),
    getTargetHealth: read(byId),
  },
  database: {
    ping,
    createDatabase: mutate(['spec', 'databaseSpec']),
    getDatabase: read(byId),
    listDatabases: read(),
    deleteDatabase: mutate(byId),
    fence: mutate(byId, ['node', 'id']),
    promote: mutate(byId, ['node', 'id']),
    switchover: mutate(byId, ['node', 'id']),
    snapshotDatabase: mutate(byId),
    restoreDatabase: mutate(byId, ['snapshot', 'id']),
    rotateCredentials: mutate(byId),
  },
  webhook: {
    ping,
    deliver: mutate(['call', 'webhookCall']),
  },
  runner: {
    ping,
    startRun: mutate(['spec', 'runSpec']),
    getRun: read(byId),
    listRuns: read(),
    cancelRun: mutate(byId),
    deleteRun: mutate(byId),
    streamRunLogs: { params: [byId], options: 'stepLogOptions', mutation: false, stream: true },
  },
};
