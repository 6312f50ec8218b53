// The five ports as a client of `stratus sim`: the same interfaces as the in-process cloud,
// built from the shared wire table (one generic method per operation), so the resilient
// wrapper wraps it exactly as it wraps the in-process one.

import type { Dispatcher } from 'undici';
import type { BackendKind, BackendPorts } from '../../core/ports/index.js';
import { WIRE, type WireOperation } from '../../sim/wire/operations.js';
import { ndjsonItems, poolOf, post, resultOf, type SimClientOptions } from './client.js';

export type { SimClientOptions } from './client.js';

type Method = (...args: unknown[]) => Promise<unknown>;

function method(
  options: SimClientOptions,
  dispatcher: Dispatcher,
  backend: BackendKind,
  name: string,
  operation: WireOperation,
): Method {
  const path = `/v1/${backend}/${name}`;
  return async (...args) => {
    const body: Record<string, unknown> = {};
    operation.params.forEach(([param], i) => {
      body[param] = args[i];
    });
    const { signal, ...rest } = (args[operation.params.length] ?? {}) as { signal?: AbortSignal };
    const wireOptions =
      operation.mutation && options.caller !== undefined ? { caller: options.caller, ...rest } : rest;
    if (operation.mutation || Object.keys(wireOptions).length > 0) body.options = wireOptions;
    if (signal?.aborted) throw signal.reason;
    const response = await post(dispatcher, options.url, path, body, signal);
    if (operation.stream) return ndjsonItems(response, signal);
    return resultOf(response, signal);
  };
}

function port<K extends BackendKind>(
  options: SimClientOptions,
  dispatcher: Dispatcher,
  backend: K,
): BackendPorts[K] {
  const methods = Object.entries(WIRE[backend]).map(([name, op]) => [
    name,
    method(options, dispatcher, backend, name, op),
  ]);
  // The wire table names every method of the port (the contract suite calls each one
  // through this client), so the object is the port.
  return Object.fromEntries(methods) as unknown as BackendPorts[K];
}

/**
 * The five ports of the simulator at `options.url`, sharing one keep-alive connection pool
 * (idle sockets do not hold the process open).
 */
export function createHttpBackends(options: SimClientOptions): BackendPorts {
  const dispatcher = poolOf(options);
  return {
    compute: port(options, dispatcher, 'compute'),
    network: port(options, dispatcher, 'network'),
    storage: port(options, dispatcher, 'storage'),
    dns: port(options, dispatcher, 'dns'),
    loadBalancer: port(options, dispatcher, 'loadBalancer'),
    database: port(options, dispatcher, 'database'),
    webhook: port(options, dispatcher, 'webhook'),
    runner: port(options, dispatcher, 'runner'),
  };
}
