// The DNS port: zones and their records.

import type { CallOptions, ListOptions, MutationOptions, Page, Pingable } from './common.js';

/** What to create. */
export interface ZoneSpec {
  /** The domain, e.g. `example.test`. */
  readonly domain: string;
  /** Free-form labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A zone. */
export interface Zone extends ZoneSpec {
  /** Backend-assigned id. */
  readonly id: string;
  /** Creation time (ms since the epoch, backend clock). */
  readonly createdAt: number;
}

/** Record types the control plane manages. */
export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'SRV' | 'TXT';

/** A record set. */
export interface DnsRecord {
  /** Name inside the zone, e.g. `www`. */
  readonly name: string;
  /** Type. */
  readonly type: RecordType;
  /** Values. */
  readonly values: readonly string[];
  /** Time to live, seconds. */
  readonly ttl: number;
}

/** Identifies a record set in a zone. */
export interface RecordKey {
  /** The zone. */
  readonly zoneId: string;
  /** Name inside the zone. */
  readonly name: string;
  /** Type. */
  readonly type: RecordType;
}

/** DNS backend. */
export interface DnsPort extends Pingable {
  /** Creates a zone. */
  createZone(spec: ZoneSpec, options: MutationOptions): Promise<Zone>;
  /** Reads a zone. */
  getZone(id: string, options?: CallOptions): Promise<Zone>;
  /** Lists zones. */
  listZones(options?: ListOptions): Promise<Page<Zone>>;
  /** Deletes a zone and its records. */
  deleteZone(id: string, options: MutationOptions): Promise<void>;
  /** Creates or replaces a record set. */
  upsertRecord(zoneId: string, record: DnsRecord, options: MutationOptions): Promise<DnsRecord>;
  /** Deletes a record set. */
  deleteRecord(key: RecordKey, options: MutationOptions): Promise<void>;
  /** Lists the record sets of a zone. */
  listRecords(zoneId: string, options?: ListOptions): Promise<Page<DnsRecord>>;
}
