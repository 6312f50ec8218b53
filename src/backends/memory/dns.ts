// In-memory DNS backend.

import { InvalidInputError, NotFoundError } from '../../core/errors/backend-errors.js';
import type { CallOptions, ListOptions, MutationOptions, Page } from '../../core/ports/common.js';
import type { DnsPort, DnsRecord, RecordKey, Zone, ZoneSpec } from '../../core/ports/dns.js';
import { type MemoryCloud, page } from './cloud.js';

/** In-memory zones and record sets. */
export class MemoryDns implements DnsPort {
  private readonly zones = new Map<string, Zone>();
  private readonly records = new Map<string, Map<string, DnsRecord>>();

  /** @param cloud shared state of the in-memory cloud */
  constructor(private readonly cloud: MemoryCloud) {}

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
      this.records.set(zone.id, new Map());
      return zone;
    });
  }

  /** @inheritdoc */
  async getZone(id: string, options?: CallOptions): Promise<Zone> {
    await this.cloud.enter('dns', 'getZone', options);
    return this.find(id);
  }

  /** @inheritdoc */
  async listZones(options?: ListOptions): Promise<Page<Zone>> {
    await this.cloud.enter('dns', 'listZones', options);
    return page(this.zones.values(), options);
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
    return page(this.records.get(zoneId)!.values(), options);
  }

  private find(id: string): Zone {
    const zone = this.zones.get(id);
    if (zone === undefined) throw new NotFoundError(`zone/${id}`);
    return zone;
  }
}
