// Simulated DNS backend.

import { InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type { DnsPort, DnsRecord, RecordKey, RecordType, Zone, ZoneSpec } from '../../core/ports/dns.js';
import { Catalog } from '../cloud/catalog.js';
import type { SimCloud } from '../cloud/cloud.js';

/** The saved form of the DNS state. */
export interface DnsState {
  readonly zones: readonly Zone[];
  readonly records: readonly [string, DnsRecord[]][];
}

/** What a resolver would answer for a name. */
export interface Resolution {
  /** The record set found (a CNAME is followed), or undefined for NXDOMAIN. */
  readonly answer?: DnsRecord;
  /** The zone that answered. */
  readonly zoneId?: string;
  /** The CNAME chain followed, in order. */
  readonly chain: readonly string[];
}

/** Simulated zones and record sets. */
export class SimDns implements DnsPort {
  private zones = new Catalog<Zone>();
  private records = new Map<string, Catalog<DnsRecord>>();

  /** @param cloud shared core of the simulated cloud */
  constructor(private readonly cloud: SimCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('dns', 'ping', options);
  }

  /** @inheritdoc */
  createZone(spec: ZoneSpec, options: MutationOptions): Promise<Zone> {
    return this.cloud.mutate('dns', 'createZone', `zone/name:${spec.domain}`, spec, options, () => {
      if (!spec.domain.includes('.')) throw new InvalidInputError(`bad domain ${spec.domain}`);
      const zone: Zone = { ...spec, id: this.cloud.newId('zone'), createdAt: this.cloud.wallClock() };
      this.zones.set(zone.id, zone);
      this.records.set(zone.id, new Catalog());
      return zone;
    });
  }

  /** @inheritdoc */
  async getZone(id: string, options?: CallOptions): Promise<Zone> {
    await this.cloud.enter('dns', 'getZone', options, `zone/${id}`);
    return this.find(id);
  }

  /** @inheritdoc */
  async listZones(options?: ListOptions): Promise<Page<Zone>> {
    await this.cloud.enter('dns', 'listZones', options);
    return this.zones.page(options);
  }

  /** @inheritdoc */
  deleteZone(id: string, options: MutationOptions): Promise<void> {
    return this.cloud.mutate('dns', 'deleteZone', `zone/${id}`, { id }, options, () => {
      this.find(id);
      this.zones.delete(id);
      this.records.delete(id);
    });
  }

  /** @inheritdoc */
  upsertRecord(zoneId: string, record: DnsRecord, options: MutationOptions): Promise<DnsRecord> {
    const resource = `zone/${zoneId}/${record.type}/${record.name}`;
    return this.cloud.mutate('dns', 'upsertRecord', resource, { zoneId, record }, options, () => {
      this.find(zoneId);
      if (record.values.length === 0 || !(record.ttl > 0))
        throw new InvalidInputError('a record needs values and a ttl');
      this.records.get(zoneId)!.set(`${record.type}/${record.name}`, record);
      return record;
    });
  }

  /** @inheritdoc */
  deleteRecord(key: RecordKey, options: MutationOptions): Promise<void> {
    const resource = `zone/${key.zoneId}/${key.type}/${key.name}`;
    return this.cloud.mutate('dns', 'deleteRecord', resource, key, options, () => {
      this.find(key.zoneId);
      if (!this.records.get(key.zoneId)!.delete(`${key.type}/${key.name}`))
        throw new NotFoundError(`record/${resource}`);
    });
  }

  /** @inheritdoc */
  async listRecords(zoneId: string, options?: ListOptions): Promise<Page<DnsRecord>> {
    await this.cloud.enter('dns', 'listRecords', options);
    this.find(zoneId);
    return this.records.get(zoneId)!.page(options);
  }

  /**
   * Resolves a fully qualified name (`www.example.test`) as a resolver would: the longest
   * zone suffix answers; a CNAME is followed (at most 8 hops, as resolvers cap chains).
   */
  resolve(name: string, type: RecordType): Resolution {
    const chain: string[] = [];
    let fqdn = name.replace(/\.$/, '');
    for (let hop = 0; hop < 8; hop++) {
      const zone = [...this.zones.values()]
        .filter((z) => fqdn === z.domain || fqdn.endsWith(`.${z.domain}`))
        .sort((a, b) => b.domain.length - a.domain.length)[0];
      if (zone === undefined) return { chain };
      const relative = fqdn === zone.domain ? '@' : fqdn.slice(0, -zone.domain.length - 1);
      const records = this.records.get(zone.id)!;
      const direct = records.get(`${type}/${relative}`);
      if (direct !== undefined) return { answer: direct, zoneId: zone.id, chain };
      const alias = records.get(`CNAME/${relative}`);
      if (alias === undefined || type === 'CNAME') return { zoneId: zone.id, chain };
      chain.push(alias.values[0]!);
      fqdn = alias.values[0]!.replace(/\.$/, '');
    }
    return { chain };
  }

  /** Every zone with its record sets. */
  all(): (Zone & { records: DnsRecord[] })[] {
    return [...this.zones.values()].map((z) => ({ ...z, records: [...this.records.get(z.id)!.values()] }));
  }

  /** The DNS state, for saving. */
  exportState(): DnsState {
    return {
      zones: [...this.zones.values()],
      records: [...this.records].map(([id, records]) => [id, [...records.values()]]),
    };
  }

  /** Restores a saved state. */
  importState(state: DnsState): void {
    this.zones = new Catalog(state.zones.map((z) => [z.id, z]));
    this.records = new Map(
      state.records.map(([id, records]) => [id, new Catalog(records.map((r) => [`${r.type}/${r.name}`, r]))]),
    );
  }

  private find(id: string): Zone {
    const zone = this.zones.get(id);
    if (zone === undefined) throw new NotFoundError(`zone/${id}`);
    return zone;
  }
}
