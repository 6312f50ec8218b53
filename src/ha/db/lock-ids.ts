/**
 * The registry of advisory lock classes Stratus takes. Locks use the two-integer form
 * `pg_advisory_lock(class, key)`, so our locks can never collide with an application's
 * single-bigint locks, nor with each other by a string-hash accident.
 */
export const LockClass = {
  /** Serialises migrations across replicas starting at once; key 0. */
  migrations: 0x5354_0001,
  /**
   * Writers of the resource event log, transaction-scoped and always shared, key 0: held from
   * before an event id is drawn until commit, so readers can tell which ids may still appear.
   * Taken by the trigger of migration 0011, which spells the number out.
   */
  eventWriters: 0x5354_0003,
  /** Leader election; the key is the id of the leadership key in the leader registry. */
  leadership: 0x5354_0002,
  /** Leader election's candidate gate: one waiter per key queues on the leadership lock at a time. */
  leadershipGate: 0x5354_0102,
  /**
   * Leader election's fence, per key, transaction-scoped: every fenced write holds it shared
   * and an epoch bump takes it exclusive. Heavyweight locks queue fairly (a shared request
   * waits behind an exclusive one already waiting), so writers cannot starve a bump.
   */
  leadershipFence: 0x5354_0202,
} as const;
