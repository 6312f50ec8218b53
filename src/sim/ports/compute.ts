// Simulated compute: instances with an instance type, a zone, a tenant and lifecycle
// stages that advance on the cloud's clock by the profile's stage rules. Stages are
// evaluated when an instance is looked at, not by a timer per instance, so 100,000 idle
// instances cost no timers and an injected clock drives them exactly. A call looks only at
// the instances it is about (a listing at those of its page), so it costs the same whatever
// the number of instances; the one change others must see without looking, an instance
// ending and giving back its tenant's quota and its zone's vCPUs, is found through a queue
// of the times instances on their way to `terminated` get there.

import {
  CapacityError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
} from '../../core/errors/backend-errors.js';
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
import { sampleDelay } from '../behaviour/delay.js';
import { stageRuleFor } from '../behaviour/profile.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';
import { Deadlines } from '../cloud/deadlines.js';
import { LogBuffers } from './log-buffers.js';

/** Options of the simulated compute backend. */
export interface SimComputeOptions {
  /** Interval between stats samples, ms; default 1 000. */
  readonly statsIntervalMs?: number;
}

/** An instance and where it is in its current stage. */
interface Machine {
  instance: Instance;
  /** When the current stage began (the cloud's clock). */
  since: number;
  /** How long the current stage lasts, drawn when first needed. */
  stageMs?: number;
  /** Last time a random crash was considered. */
  crashCheckedAt: number;
  /** Load set by hand (a drill), over the load model. */
  load?: { cpu?: number; replicationLagMs?: number };
}

/** The saved form of the compute state. */
export interface ComputeState {
  readonly machines: readonly Machine[];
}

/** A load set by hand on one instance. */
export interface LoadOverride {
  /** CPU use in [0, 1]. */
  readonly cpu?: number;
  /** Replication lag, ms (replicas). */
  readonly replicationLagMs?: number;
}

const labelsOfMachine = (machine: Machine) => machine.instance.labels;

/** Simulated compute. */
export class SimCompute implements ComputePort {
  private machines = new Catalog<Machine>([], labelsOfMachine);
  /** When instances on their way to `terminated` get there (checked before capacity). */
  private ending = new Deadlines();
  private readonly logs: LogBuffers;
  private readonly statsIntervalMs: number;
  private readonly tenants = new Map<string, number>();
  private readonly zoneVcpus = new Map<string, number>();

  /**
   * @param cloud shared core of the simulated cloud
   * @param options configuration
   */
  constructor(
    private readonly cloud: SimCloud,
    options: SimComputeOptions = {},
  ) {
    this.statsIntervalMs = options.statsIntervalMs ?? 1_000;
    this.logs = new LogBuffers(cloud.wallClock);
  }

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('compute', 'ping', options);
  }

  /** @inheritdoc */
  createInstance(spec: InstanceSpec, options: MutationOptions): Promise<Instance> {
    return this.cloud.mutate('compute', 'createInstance', `instance/name:${spec.name}`, spec, options, () => {
      const { profile } = this.cloud;
      this.reap();
      if (spec.name === '' || spec.image === '') throw new InvalidInputError('name and image are required');
      const type = profile.instanceTypes[spec.size];
      if (type === undefined) {
        const sizes = Object.keys(profile.instanceTypes).join(', ');
        throw new InvalidInputError(`size ${spec.size} is not one of ${sizes}`);
      }
      const zone = spec.zone ?? Object.keys(profile.zones)[0]!;
      const room = profile.zones[zone];
      if (room === undefined) throw new InvalidInputError(`zone ${zone} does not exist`);
      const tenant = spec.tenant ?? 'default';
      const held = this.tenants.get(tenant) ?? 0;
      if (held >= profile.instanceQuotaPerTenant) {
        throw new CapacityError(
          'quota-exceeded',
          `tenant ${tenant} holds ${held} of its ${profile.instanceQuotaPerTenant} instances`,
        );
      }
      const used = this.zoneVcpus.get(zone) ?? 0;
      if (used + type.vcpus > room.vcpus) {
        throw new CapacityError(
          'no-capacity',
          `zone ${zone} has ${room.vcpus - used} of ${type.vcpus} vCPUs free`,
        );
      }
      const now = this.cloud.wallClock();
      const instance: Instance = {
        ...spec,
        tenant,
        zone,
        id: this.cloud.newId('i'),
        state: 'pending',
        createdAt: now,
      };
      this.count(instance, +1);
      this.machines.set(instance.id, { instance, since: now, crashCheckedAt: now });
      this.logs.open(instance.id);
      this.logs.append(instance.id, `instance ${instance.id} created from ${spec.image}`);
      return this.find(instance.id);
    });
  }

  /** @inheritdoc */
  async getInstance(id: string, options?: CallOptions): Promise<Instance> {
    await this.cloud.enter('compute', 'getInstance', options, `instance/${id}`);
    return this.find(id);
  }

  /** @inheritdoc */
  async listInstances(options?: ListOptions): Promise<Page<Instance>> {
    await this.cloud.enter('compute', 'listInstances', options);
    return this.machines.page(options, (id) => this.advance(id));
  }

  /** @inheritdoc */
  deleteInstance(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('compute', 'deleteInstance', `instance/${id}`, { id }, options, () => {
      const { state } = this.find(id);
      if (state !== 'terminating') this.enter(this.machines.get(id)!, 'terminating');
      this.find(id, false);
    });
  }

  /** @inheritdoc */
  startInstance(id: string, options: MutationOptions): Promise<Instance> {
    return this.cloud.mutate('compute', 'startInstance', `instance/${id}`, { id }, options, () => {
      const { state } = this.find(id);
      if (state === 'terminating') throw new ConflictError(`instance/${id} is terminating`);
      if (state === 'stopped' || state === 'stopping') this.enter(this.machines.get(id)!, 'booting');
      return this.find(id);
    });
  }

  /** @inheritdoc */
  stopInstance(id: string, options: MutationOptions): Promise<Instance> {
    return this.cloud.mutate('compute', 'stopInstance', `instance/${id}`, { id }, options, () => {
      const { state } = this.find(id);
      if (state === 'terminating') throw new ConflictError(`instance/${id} is terminating`);
      if (state !== 'stopped' && state !== 'stopping') this.enter(this.machines.get(id)!, 'stopping');
      return this.find(id);
    });
  }

  /** @inheritdoc */
  resizeInstance(id: string, size: string, options: MutationOptions): Promise<Instance> {
    return this.cloud.mutate('compute', 'resizeInstance', `instance/${id}`, { id, size }, options, () => {
      const { state } = this.find(id);
      const machine = this.machines.get(id);
      if (state === 'terminating') throw new ConflictError(`instance/${id} is terminating`);
      const { profile } = this.cloud;
      this.reap();
      const type = profile.instanceTypes[size];
      if (type === undefined) {
        const sizes = Object.keys(profile.instanceTypes).join(', ');
        throw new InvalidInputError(`size ${size} is not one of ${sizes}`);
      }
      const before = machine!.instance;
      if (before.size === size) return before;
      const zone = before.zone ?? '';
      const room = profile.zones[zone]?.vcpus ?? Number.POSITIVE_INFINITY;
      const held = profile.instanceTypes[before.size]?.vcpus ?? 0;
      const used = (this.zoneVcpus.get(zone) ?? 0) - held;
      if (used + type.vcpus > room)
        throw new CapacityError('no-capacity', `zone ${zone} has ${room - used} of ${type.vcpus} vCPUs free`);
      this.count(before, -1);
      machine!.instance = { ...before, size };
      this.count(machine!.instance, +1);
      this.logs.append(id, `instance ${id} resized from ${before.size} to ${size}`);
      return this.find(id);
    });
  }

  /** @inheritdoc */
  async streamLogs(id: string, options?: LogOptions): Promise<AsyncIterable<LogLine>> {
    await this.cloud.enter('compute', 'streamLogs', options, `instance/${id}`);
    this.find(id);
    return this.withStreamFaults(
      'streamLogs',
      id,
      this.logs.follow(id, options, this.cloud),
      options?.signal,
    );
  }

  /** @inheritdoc */
  async streamStats(id: string, options?: CallOptions): Promise<AsyncIterable<InstanceStats>> {
    await this.cloud.enter('compute', 'streamStats', options, `instance/${id}`);
    this.find(id);
    return this.withStreamFaults('streamStats', id, this.sampleStats(id, options?.signal), options?.signal);
  }

  /** @inheritdoc */
  pruneLogs(before: number, options: MutationOptions): Promise<{ readonly removed: number }> {
    return this.cloud.mutate('compute', 'pruneLogs', 'logs', { before }, options, () => {
      if (!Number.isInteger(before) || before < 0)
        throw new InvalidInputError(`before must be a time in ms since the epoch, not ${before}`);
      return { removed: this.logs.prune(before) };
    });
  }

  /** Appends a line to an instance's log (the simulated guest writes through this). */
  appendLog(id: string, line: string): void {
    this.logs.append(id, line);
  }

  /** Crashes an instance on purpose: it stops at once, with a line in its log. */
  crash(id: string): Instance {
    const machine = this.machines.get(id);
    if (machine === undefined) throw new NotFoundError(`instance/${id}`);
    this.logs.append(id, 'kernel panic: simulated crash');
    this.enter(machine, 'stopped');
    return this.find(id);
  }

  /** Sets (or, with `{}`, clears) the load of one instance, over the load model. */
  setLoad(id: string, load: LoadOverride): void {
    const machine = this.machines.get(id);
    if (machine === undefined) throw new NotFoundError(`instance/${id}`);
    machine.load = Object.keys(load).length === 0 ? undefined : { ...load };
  }

  /** One stats sample of an instance now. */
  sample(id: string): InstanceStats {
    const instance = this.find(id);
    const machine = this.machines.get(id)!;
    const { load } = this.cloud.profile;
    const at = this.cloud.wallClock();
    const running = instance.state === 'running';
    const wave = load.cpuMean + load.cpuAmplitude * Math.sin((2 * Math.PI * at) / load.periodMs);
    const cpu = running ? Math.min(1, Math.max(0, machine.load?.cpu ?? wave)) : 0;
    const type = this.cloud.profile.instanceTypes[instance.size];
    const memoryBytes = running ? Math.round((type?.memoryMiB ?? 0) * load.memoryShare * 1024 * 1024) : 0;
    const replica = instance.labels?.role === 'replica';
    const lag = machine.load?.replicationLagMs ?? sampleDelay(load.replicaLag, this.cloud.random);
    return { at, cpu, memoryBytes, ...(replica ? { replicationLagMs: lag } : {}) };
  }

  /** An instance as it is now, or undefined when it does not exist (no fault rules run). */
  peek(id: string): Instance | undefined {
    return this.advance(id);
  }

  /** Every instance that exists, stages brought up to date. */
  all(): Instance[] {
    return [...this.current()];
  }

  /** The compute state, for saving. */
  exportState(): ComputeState {
    return { machines: [...this.machines.values()] };
  }

  /** Restores a saved state. */
  importState(state: ComputeState): void {
    this.machines = new Catalog(
      state.machines.map((m) => [m.instance.id, { ...m }]),
      labelsOfMachine,
    );
    this.ending = new Deadlines();
    for (const machine of this.machines) {
      this.count(machine.instance, +1);
      this.logs.open(machine.instance.id);
      this.scheduleEnd(machine);
    }
  }

  private *current(): Generator<Instance> {
    for (const [id] of this.machines.pairs()) {
      const instance = this.advance(id);
      if (instance !== undefined) yield instance;
    }
  }

  private find(id: string, mustExist = true): Instance {
    const instance = this.advance(id);
    if (instance === undefined && mustExist) throw new NotFoundError(`instance/${id}`);
    return instance!;
  }

  /** Moves an instance through every stage whose delay has passed; undefined once terminated. */
  private advance(id: string): Instance | undefined {
    const machine = this.machines.get(id);
    if (machine === undefined) return undefined;
    const { profile } = this.cloud;
    const now = this.cloud.wallClock();
    for (;;) {
      const { state, labels } = machine.instance;
      if (state === 'running' && profile.crashesPerHour > 0) this.maybeCrash(machine, now);
      if (machine.instance.state === 'terminated') {
        this.machines.delete(id);
        this.count(machine.instance, -1);
        this.logs.close(id);
        return undefined;
      }
      const rule = stageRuleFor(profile, machine.instance.state, labels);
      if (rule === undefined || rule.from !== state) return machine.instance;
      machine.stageMs ??= sampleDelay(rule.delay, this.cloud.random);
      if (now < machine.since + machine.stageMs) return machine.instance;
      const since = machine.since + machine.stageMs;
      this.enter(machine, rule.to, since);
    }
  }

  private enter(machine: Machine, state: InstanceState, since = this.cloud.wallClock()): void {
    machine.instance = { ...machine.instance, state };
    machine.since = since;
    machine.stageMs = undefined;
    machine.crashCheckedAt = since;
    this.scheduleEnd(machine);
  }

  /**
   * Queues the end of an instance whose current stage leads to `terminated`, its delay
   * drawn now: the quota and the vCPUs it holds are given back when a capacity check
   * next runs after it, whether or not anyone looked at the instance since.
   */
  private scheduleEnd(machine: Machine): void {
    const rule = stageRuleFor(this.cloud.profile, machine.instance.state, machine.instance.labels);
    if (rule === undefined || rule.to !== 'terminated') return;
    machine.stageMs ??= sampleDelay(rule.delay, this.cloud.random);
    this.ending.push(machine.instance.id, machine.since + machine.stageMs);
  }

  /** Brings every instance due to have terminated up to date (capacity checks read the counts). */
  private reap(): void {
    for (const id of this.ending.due(this.cloud.wallClock())) {
      const machine = this.machines.get(id);
      // Still on its way (the profile changed its delay, or it is a stale entry): queued again.
      if (this.advance(id) !== undefined && machine !== undefined) this.scheduleEnd(machine);
    }
  }

  /** A crash between the last check and now, with the profile's rate (a Poisson process). */
  private maybeCrash(machine: Machine, now: number): void {
    const hours = (now - machine.crashCheckedAt) / 3_600_000;
    if (hours <= 0) return;
    machine.crashCheckedAt = now;
    if (this.cloud.random() < 1 - Math.exp(-this.cloud.profile.crashesPerHour * hours)) {
      this.logs.append(machine.instance.id, 'kernel panic: simulated crash');
      this.enter(machine, 'stopped', now);
    }
  }

  private count(instance: Instance, delta: 1 | -1): void {
    const tenant = instance.tenant ?? 'default';
    this.tenants.set(tenant, (this.tenants.get(tenant) ?? 0) + delta);
    const zone = instance.zone ?? '';
    const vcpus = this.cloud.profile.instanceTypes[instance.size]?.vcpus ?? 0;
    this.zoneVcpus.set(zone, (this.zoneVcpus.get(zone) ?? 0) + delta * vcpus);
  }

  private async *sampleStats(id: string, signal: AbortSignal | undefined): AsyncGenerator<InstanceStats> {
    while (this.advance(id) !== undefined) {
      if (signal?.aborted) this.cloud.observeAbort('compute', 'streamStats', signal);
      yield this.sample(id);
      await this.cloud.wait('compute', 'streamStats', this.statsIntervalMs, signal);
    }
  }

  /** Applies the stream fault rules (slow or cut) in force when the stream opened. */
  private async *withStreamFaults<T>(
    op: string,
    id: string,
    source: AsyncIterable<T>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<T> {
    const hits = this.cloud.faults.match('compute', op, `instance/${id}`, true);
    // The cut comes right after the last item it lets through, not when the next one is
    // read: a followed stream may wait forever for a next line, and would never be cut.
    const cutAt = Math.min(
      ...hits.map(({ rule }) => (rule.effect.kind === 'cut-stream' ? rule.effect.afterItems : Infinity)),
    );
    let items = 0;
    if (items >= cutAt) return;
    for await (const item of source) {
      for (const { rule } of hits) {
        if (rule.effect.kind === 'slow-stream') {
          await this.cloud.wait('compute', op, sampleDelay(rule.effect.delay, this.cloud.random), signal);
        }
      }
      yield item;
      if (++items >= cutAt) return;
    }
  }
}
