// Tenants and API keys in PostgreSQL: every statement in ./sql.

import type { Queryable, Row } from '../../ha/db/database.js';
import { loadText } from '../../ha/db/sql-loader.js';

const sql = (name: string) => loadText(new URL(`./sql/${name}.sql`, import.meta.url));
const SQL = {
  insertTenant: sql('insert-tenant'),
  getTenant: sql('get-tenant'),
  listTenants: sql('list-tenants'),
  insertKey: sql('insert-api-key'),
  findKey: sql('find-api-key'),
  getKey: sql('get-api-key'),
  listKeys: sql('list-api-keys'),
  revokeKey: sql('revoke-api-key'),
  notifyKey: sql('notify-api-key'),
  touchKeys: sql('touch-api-keys'),
  ackKey: sql('ack-api-key'),
  countListeners: sql('count-key-listeners'),
};

/** The NOTIFY channel a revocation is announced on. */
export const API_KEYS_CHANNEL = 'stratus_api_keys';
/** The channel each process acknowledges a revocation on, once its cache has dropped the key. */
export const API_KEYS_ACK_CHANNEL = 'stratus_api_keys_ack';

/** What a key may do in its tenant: admin ⊃ member ⊃ viewer. */
export const KEY_ROLES = ['admin', 'member', 'viewer'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export interface Tenant {
  readonly id: string;
  readonly createdAt: string;
}

/** A key as listed: never its secret or hash. */
export interface ApiKey {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly role: KeyRole;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** A key as verification needs it. */
export interface StoredKey {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly role: KeyRole;
  readonly secretHash: string;
  readonly revoked: boolean;
}

const iso = (value: unknown): string =>
  (value instanceof Date ? value : new Date(String(value))).toISOString();
const isoOrNull = (value: unknown): string | null => (value == null ? null : iso(value));

const toTenant = (row: Row): Tenant => ({ id: row.id as string, createdAt: iso(row.created_at) });
const toKey = (row: Row): ApiKey => ({
  id: row.id as string,
  tenant: row.tenant as string,
  name: row.name as string,
  role: row.role as KeyRole,
  createdAt: iso(row.created_at),
  lastUsedAt: isoOrNull(row.last_used_at),
  revokedAt: isoOrNull(row.revoked_at),
});

export async function insertTenant(q: Queryable, id: string): Promise<Tenant | undefined> {
  const { rows } = await q.query(SQL.insertTenant, [id]);
  return rows[0] && toTenant(rows[0]);
}

export async function getTenant(q: Queryable, id: string): Promise<Tenant | undefined> {
  const { rows } = await q.query(SQL.getTenant, [id]);
  return rows[0] && toTenant(rows[0]);
}

export async function listTenants(q: Queryable, after: string, limit: number): Promise<Tenant[]> {
  const { rows } = await q.query(SQL.listTenants, [after, limit]);
  return rows.map(toTenant);
}

export async function insertKey(
  q: Queryable,
  key: { id: string; tenant: string; name: string; role: KeyRole; secretHash: string },
): Promise<ApiKey> {
  const { rows } = await q.query(SQL.insertKey, [key.id, key.tenant, key.name, key.role, key.secretHash]);
  return toKey(rows[0]!);
}

export async function findKey(q: Queryable, id: string): Promise<StoredKey | undefined> {
  const { rows } = await q.query(SQL.findKey, [id]);
  const row = rows[0];
  return (
    row && {
      id: row.id as string,
      tenant: row.tenant as string,
      name: row.name as string,
      role: row.role as KeyRole,
      secretHash: row.secret_hash as string,
      revoked: row.revoked_at != null,
    }
  );
}

export async function getKey(q: Queryable, tenant: string, id: string): Promise<ApiKey | undefined> {
  const { rows } = await q.query(SQL.getKey, [id, tenant]);
  return rows[0] && toKey(rows[0]);
}

export async function listKeys(
  q: Queryable,
  tenant: string,
  after: string,
  limit: number,
): Promise<ApiKey[]> {
  const { rows } = await q.query(SQL.listKeys, [tenant, after, limit]);
  return rows.map(toKey);
}

/** Revokes a key and announces it, in the caller's transaction. */
export async function revokeKey(q: Queryable, tenant: string, id: string): Promise<ApiKey | undefined> {
  const { rows } = await q.query(SQL.revokeKey, [id, tenant]);
  if (!rows[0]) return undefined;
  await q.query(SQL.notifyKey, [id]);
  return toKey(rows[0]);
}

export async function touchKeys(q: Queryable, ids: readonly string[], at: Date): Promise<void> {
  if (ids.length > 0) await q.query(SQL.touchKeys, [ids, at]);
}

/** Acknowledges a revocation: `instance` has dropped `id`. */
export async function ackKey(q: Queryable, instance: string, id: string): Promise<void> {
  await q.query(SQL.ackKey, [`${instance}:${id}`]);
}

/** The sessions listening for revocations now. */
export async function countKeyListeners(q: Queryable): Promise<number> {
  const { rows } = await q.query(SQL.countListeners);
  return Number(rows[0]?.n ?? 0);
}
