// Tenants, API keys and the verification of a request's key (docs/auth.md).
//
// Verification is cached per process so that a request costs no database round trip, and the
// cache stays revocation-correct: revoking NOTIFYs `stratus_api_keys` in the revoking
// transaction, every process LISTENs and drops the key, and while a process's listening
// connection is not healthy its cache is off (every request reads the key from the database).
// A read that raced an invalidation is not cached (the epoch check below).
//
// "At once" on PostgreSQL: a NOTIFY reaches each listener on its own time, so the revoking
// request does not answer on commit alone. Each process acknowledges (NOTIFY on
// `stratus_api_keys_ack`) after dropping the key, and the revoker waits for as many
// acknowledgements as there are listening sessions (or a timeout: a listener that cannot
// answer is cut off, and its process then checks every request in the database). A request
// that starts after the revocation's answer therefore meets no cached copy anywhere.

import { randomUUID } from 'node:crypto';
import type { Database } from '../../ha/db/database.js';
import { ControlError, ControlErrorCode, NotFoundError, ValidationError } from '../errors.js';
import { generateKey, parseKey, secretMatches } from './keys.js';
import {
  API_KEYS_ACK_CHANNEL,
  API_KEYS_CHANNEL,
  type ApiKey,
  ackKey,
  countKeyListeners,
  findKey,
  getKey,
  getTenant,
  insertKey,
  insertTenant,
  KEY_ROLES,
  type KeyRole,
  listKeys,
  listTenants,
  revokeKey,
  type Tenant,
  touchKeys,
} from './store.js';

/** The tenant whose admin keys are the operators of the installation (/v1/tenants, /v1/system). */
export const OPERATOR_TENANT = 'local';

/** Who a request acts as. */
export interface Principal {
  readonly keyId: string;
  readonly tenant: string;
  readonly role: KeyRole;
  /** An admin key of the operator tenant: may manage tenants and the system. */
  readonly operator: boolean;
}

export const TENANT_ID_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const KEY_NAME_PATTERN = /^[\x20-\x7e]{1,100}$/;

/** Options of {@link createAuthService}. */
export interface AuthServiceOptions {
  readonly db: Database;
  /**
   * `notify` (the default): cached keys are dropped by NOTIFY. `none`: a plain cache kept for
   * `ttlMs` (the unsafe design the revocation test shows failing; never use it).
   */
  readonly invalidation?: 'notify' | 'none';
  readonly ttlMs?: number;
  /** Between two writes of one key's last_used_at by this process. Default 60 s. */
  readonly touchEveryMs?: number;
  /** Between two attempts to resubscribe after the listening connection failed. Default 1 s. */
  readonly resubscribeMs?: number;
  /** How long a revocation waits for every process's acknowledgement. Default 2 s. */
  readonly echoTimeoutMs?: number;
  readonly onWarn?: (message: string, err: Error) => void;
}

export interface AuthService {
  /** Subscribes to revocations; until it has, the cache is off. */
  start(): Promise<void>;
  /** The principal of a presented key, or undefined (malformed, unknown, wrong secret, revoked). */
  verify(token: string): Promise<Principal | undefined>;
  /** Whether verified keys are served from memory now (the listening connection is healthy). */
  cacheEnabled(): boolean;
  createTenant(id: string): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant>;
  listTenants(after: string, limit: number): Promise<Tenant[]>;
  /** A new key of `tenant`; `token` is the only copy of its secret. */
  createKey(tenant: string, input: { name: string; role: string }): Promise<{ key: ApiKey; token: string }>;
  getKey(tenant: string, id: string): Promise<ApiKey>;
  listKeys(tenant: string, after: string, limit: number): Promise<ApiKey[]>;
  /** Revokes a key: once this resolves, no process accepts it. */
  revokeKey(tenant: string, id: string): Promise<ApiKey>;
  close(): Promise<void>;
}

interface Cached {
  readonly principal: Principal;
  readonly secretHash: string;
  readonly at: number;
}

const MAX_CACHED = 10_000;

/** The tenant id is taken. */
export class TenantExistsError extends ControlError {
  readonly code = ControlErrorCode.NameTaken;
  readonly status = 409;
  override readonly name = 'TenantExistsError';
  override readonly errors = [{ path: '/id', message: 'a tenant with this id exists' }];
  constructor(id: string) {
    super(`tenant ${id} already exists`);
  }
}

export function isKeyRole(role: unknown): role is KeyRole {
  return typeof role === 'string' && (KEY_ROLES as readonly string[]).includes(role);
}

export function createAuthService(options: AuthServiceOptions): AuthService {
  const { db } = options;
  const invalidation = options.invalidation ?? 'notify';
  const touchEveryMs = options.touchEveryMs ?? 60_000;
  const resubscribeMs = options.resubscribeMs ?? 1_000;
  const echoTimeoutMs = options.echoTimeoutMs ?? 2_000;
  const warn = options.onWarn ?? (() => {});
  const cache = new Map<string, Cached>();
  const lastTouched = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();
  const instance = randomUUID();
  /** Revocations waiting for acknowledgements: key id → instances that dropped it. */
  const acks = new Map<string, { from: Set<string>; wake: () => void }>();
  let unlistenAcks: (() => Promise<void>) | undefined;
  let healthy = invalidation === 'none';
  let epoch = 0;
  let closed = false;
  let unlisten: (() => Promise<void>) | undefined;
  let retry: NodeJS.Timeout | undefined;

  const invalidate = (id?: string) => {
    epoch++;
    if (id === undefined) cache.clear();
    else cache.delete(id);
  };

  const onNotify = (id: string) => {
    invalidate(id);
    if (db.driver === 'pg')
      track(ackKey(db, instance, id)).catch((err: Error) => warn('could not acknowledge a revocation', err));
  };

  const onAck = (payload: string) => {
    const at = payload.lastIndexOf(':');
    const waiting = acks.get(payload.slice(at + 1));
    if (!waiting) return;
    waiting.from.add(payload.slice(0, at));
    waiting.wake();
  };

  const onLost = (err: Error) => {
    healthy = false;
    invalidate();
    unlisten = undefined;
    warn('key revocations: listening connection lost, every request checks the database', err);
    schedule();
  };

  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void subscribe();
    }, resubscribeMs);
    retry.unref();
  };

  async function subscribe(): Promise<void> {
    if (closed || invalidation === 'none') return;
    try {
      unlisten = await db.listen(API_KEYS_CHANNEL, onNotify, onLost);
      if (closed) {
        await unlisten();
        return;
      }
      // Anything revoked while unsubscribed was missed: start from an empty cache.
      invalidate();
      healthy = true;
    } catch (err) {
      warn('key revocations: could not listen, every request checks the database', err as Error);
      schedule();
    }
  }

  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    return p;
  };

  const touch = (id: string) => {
    const now = Date.now();
    if (now - (lastTouched.get(id) ?? 0) < touchEveryMs) return;
    lastTouched.set(id, now);
    track(touchKeys(db, [id], new Date(now))).catch((err: Error) => warn('could not record key use', err));
  };

  const principalOf = (k: { id: string; tenant: string; role: KeyRole }): Principal => ({
    keyId: k.id,
    tenant: k.tenant,
    role: k.role,
    operator: k.tenant === OPERATOR_TENANT && k.role === 'admin',
  });

  async function verify(token: string): Promise<Principal | undefined> {
    const parsed = parseKey(token);
    if (!parsed) return undefined;
    const hit = cache.get(parsed.id);
    if (hit && healthy && (invalidation === 'notify' || Date.now() - hit.at < (options.ttlMs ?? 60_000))) {
      if (!secretMatches(parsed.secret, hit.secretHash)) return undefined;
      touch(parsed.id);
      return hit.principal;
    }
    const seen = epoch;
    const stored = await findKey(db, parsed.id);
    if (!stored || stored.revoked || !secretMatches(parsed.secret, stored.secretHash)) return undefined;
    const principal = principalOf(stored);
    // Cached only if nothing was invalidated (and the listener stayed up) during the read.
    if (healthy && seen === epoch) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(stored.id, { principal, secretHash: stored.secretHash, at: Date.now() });
    }
    touch(stored.id);
    return principal;
  }

  /** Revokes in one transaction; on PostgreSQL, waits until every listener has dropped the key. */
  async function revokeEverywhere(tenant: string, id: string): Promise<ApiKey | undefined> {
    if (db.driver !== 'pg' || invalidation === 'none') {
      const key = await db.transaction((tx) => revokeKey(tx, tenant, id));
      invalidate(id);
      return key;
    }
    unlistenAcks ??= await db.listen(API_KEYS_ACK_CHANNEL, onAck, () => {
      unlistenAcks = undefined;
    });
    let wake = () => {};
    const waiting = { from: new Set<string>(), wake: () => wake() };
    acks.set(id, waiting);
    try {
      const key = await db.transaction((tx) => revokeKey(tx, tenant, id));
      invalidate(id);
      if (!key) return undefined;
      const expected = await countKeyListeners(db);
      const deadline = Date.now() + echoTimeoutMs;
      while (waiting.from.size < expected && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (waiting.from.size < expected)
        warn(
          `key revocation: ${waiting.from.size} of ${expected} listeners acknowledged in ${echoTimeoutMs} ms`,
          new Error('unacknowledged revocation'),
        );
      return key;
    } finally {
      acks.delete(id);
    }
  }

  const tenantMustExist = async (tenant: string) => {
    if (!(await getTenant(db, tenant)))
      throw new ValidationError([{ path: '/tenant', message: `no tenant ${tenant}` }]);
  };

  return {
    start: subscribe,
    verify,
    cacheEnabled: () => healthy,

    async createTenant(id) {
      if (typeof id !== 'string' || !TENANT_ID_PATTERN.test(id))
        throw new ValidationError([
          { path: '/id', message: 'must be 1 to 63 lowercase letters, digits or inner hyphens' },
        ]);
      const tenant = await insertTenant(db, id);
      if (!tenant) throw new TenantExistsError(id);
      return tenant;
    },
    async getTenant(id) {
      const tenant = TENANT_ID_PATTERN.test(id) ? await getTenant(db, id) : undefined;
      if (!tenant) throw new NotFoundError(`no tenant ${id}`);
      return tenant;
    },
    listTenants: (after, limit) => listTenants(db, after, limit),

    async createKey(tenant, input) {
      const errors = [];
      if (typeof input.name !== 'string' || !KEY_NAME_PATTERN.test(input.name))
        errors.push({ path: '/name', message: 'must be 1 to 100 printable ASCII characters' });
      if (!isKeyRole(input.role))
        errors.push({ path: '/role', message: `must be one of ${KEY_ROLES.join(', ')}` });
      if (errors.length > 0) throw new ValidationError(errors);
      await tenantMustExist(tenant);
      const fresh = generateKey();
      const key = await insertKey(db, {
        id: fresh.id,
        tenant,
        name: input.name,
        role: input.role as KeyRole,
        secretHash: fresh.secretHash,
      });
      return { key, token: fresh.token };
    },
    async getKey(tenant, id) {
      const key = await getKey(db, tenant, id);
      if (!key) throw new NotFoundError(`no API key ${id}`);
      return key;
    },
    listKeys: (tenant, after, limit) => listKeys(db, tenant, after, limit),

    async revokeKey(tenant, id) {
      const key = await revokeEverywhere(tenant, id);
      if (!key) throw new NotFoundError(`no API key ${id}`);
      return key;
    },

    async close() {
      closed = true;
      clearTimeout(retry);
      await unlisten?.().catch(() => {});
      await unlistenAcks?.().catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
  };
}
