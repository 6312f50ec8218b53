// In-memory compute backend.

import { InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type {
  ComputePort,
  Instance,
  InstanceSpec,
  InstanceState,
  InstanceStats,
  LogLine,
  LogOptions,
} from '../../core/ports/compute.js';
import { type MemoryCloud, page } from './cloud.js';

/** Options of the in-memory compute backend. */
export interface MemoryComputeOptions {
  /** Interval between stats samples, ms; default 1 000. */
  readonly statsIntervalMs?: number;
}

/** In-memory compute: instances in a map, logs in per-instance buffers. */
export class MemoryCompute implements ComputePort {
  private readonly instances = new Map<string, Instance>();
  private readonly logs = new Map<string, LogLine[]>();
  private readonly logWaiters = new Map<string, Set<() => void>>();
  private readonly statsIntervalMs: number;

  /**
   * @param cloud shared state of the in-memory cloud
   * @param options configuration
   */
  constructor(
    private readonly cloud: MemoryCloud,
    options: MemoryComputeOptions = {},
  ) {
    this.statsIntervalMs = options.statsIntervalMs ?? 1_000;
  }

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('compute', 'ping', options);
  }

  /** @inheritdoc */
  createInstance(spec: InstanceSpec, options: MutationOptions): Promise<Instance> {
    return this.cloud.mutate('compute', 'createInstance', `instance/name:${spec.name}`, spec, options, () => {
      if (spec.name === '' || spec.image === '') throw new InvalidInputError('name and image are required');
      const instance: Instance = {
        ...spec,
        id: this.cloud.newId('i'),
        state: 'running',
        createdAt: this.cloud.wallClock(),
      };
      this.instances.set(instance.id, instance);
      this.logs.set(instance.id, []);
      this.appendLog(instance.id, `instance ${instance.id} created from ${spec.image}`);
      return instance;
    });
  }

  /** @inheritdoc */
  async getInstance(id: string, options?: CallOptions): Promise<Instance> {
    await this.cloud.enter('compute', 'getInstance', options);
    return this.find(id);
  }

  /** @inheritdoc */
  async listInstances(options?: ListOptions): Promise<Page<Instance>> {
    await this.cloud.enter('compute', 'listInstances', options);
    return page(this.instances.values(), options);
  }

  /** @inheritdoc */
  deleteInstance(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('compute', 'deleteInstance', `instance/${id}`, { id }, options, () => {
      this.find(id);
      this.instances.delete(id);
      this.appendLog(id, `instance ${id} terminated`);
      this.logs.delete(id);
    });
  }

  /** @inheritdoc */
  startInstance(id: string, options: MutationOptions): Promise<Instance> {
    return this.power(id, 'startInstance', 'running', options);
  }

  /** @inheritdoc */
  stopInstance(id: string, options: MutationOptions): Promise<Instance> {
    return this.power(id, 'stopInstance', 'stopped', options);
  }

  /** @inheritdoc */
  async streamLogs(id: string, options?: LogOptions): Promise<AsyncIterable<LogLine>> {
    await this.cloud.enter('compute', 'streamLogs', options);
    this.find(id);
    return this.followLogs(id, options);
  }

  /** @inheritdoc */
  async streamStats(id: string, options?: CallOptions): Promise<AsyncIterable<InstanceStats>> {
    await this.cloud.enter('compute', 'streamStats', options);
    this.find(id);
    return this.sampleStats(id, options?.signal);
  }

  /** Appends a line to an instance's log (the simulated guest writes through this). */
  appendLog(id: string, line: string): void {
    this.logs.get(id)?.push({ at: this.cloud.wallClock(), line });
    const waiters = this.logWaiters.get(id);
    if (waiters === undefined) return;
    this.logWaiters.delete(id);
    for (const wake of waiters) wake();
  }

  private find(id: string): Instance {
    const instance = this.instances.get(id);
    if (instance === undefined) throw new NotFoundError(`instance/${id}`);
    return instance;
  }

  private power(id: string, op: string, state: InstanceState, options: MutationOptions): Promise<Instance> {
    return this.cloud.mutate('compute', op, `instance/${id}`, { id }, options, () => {
      const instance: Instance = { ...this.find(id), state };
      this.instances.set(id, instance);
      this.appendLog(id, `instance ${id} ${state}`);
      return instance;
    });
  }

  private async *followLogs(id: string, options: LogOptions | undefined): AsyncGenerator<LogLine> {
    const signal = options?.signal;
    const buffer = this.logs.get(id) ?? [];
    let next = options?.tail === undefined ? 0 : Math.max(0, buffer.length - options.tail);
    for (;;) {
      if (signal?.aborted) this.cloud.observeAbort('compute', 'streamLogs', signal);
      const lines = this.logs.get(id);
      if (lines === undefined) return;
      if (next < lines.length) {
        yield lines[next++]!;
        continue;
      }
      if (!options?.follow) return;
      await this.nextLine(id, signal);
    }
  }

  private nextLine(id: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        this.logWaiters.get(id)?.delete(wake);
        resolve();
      };
      const waiters = this.logWaiters.get(id) ?? new Set<() => void>();
      this.logWaiters.set(id, waiters);
      waiters.add(wake);
      // An abort wakes the loop, which then sees the aborted signal and ends the stream.
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  private async *sampleStats(id: string, signal: AbortSignal | undefined): AsyncGenerator<InstanceStats> {
    for (let n = 0; this.instances.has(id); n++) {
      if (signal?.aborted) this.cloud.observeAbort('compute', 'streamStats', signal);
      yield { at: this.cloud.wallClock(), cpu: (n % 10) / 10, memoryBytes: 256 * 1024 * 1024 };
      await this.cloud.wait('compute', 'streamStats', this.statsIntervalMs, signal);
    }
  }
}
