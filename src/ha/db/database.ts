/**
 * The database port of the kernel: the few operations every Stratus component needs,
 * implemented by two drivers (`pg` for PostgreSQL, PGlite for the embedded default) so
 * that every SQL statement runs on both.
 */

/** A row as returned by the driver: column name to value. int8 arrives as a number, timestamps as Date. */
export type Row = Record<string, unknown>;

export interface QueryResult<R extends Row = Row> {
  rows: R[];
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number;
}

/** Something SQL can be sent to: the pool itself or one transaction. */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type Notification = { channel: string; payload: string };

export interface Database extends Queryable {
  /** `pg` (a pool on PostgreSQL) or `pglite` (embedded, one in-process session). */
  readonly driver: 'pg' | 'pglite';
  /**
   * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when
   * it throws (the error is rethrown).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel`. Resolves once LISTEN is in effect; the returned
   * function unsubscribes. `onLost` is told (once) when the subscription ends by itself (its
   * connection failed): notifications may have been missed from then on.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onLost?: (err: Error) => void,
  ): Promise<() => Promise<void>>;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}
