import pg from 'pg';
import type { Database, Queryable, QueryResult, Row } from './database.js';

export interface PgDatabaseOptions {
  connectionString: string;
  /** Pool size. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell which node holds which session. */
  applicationName?: string;
  /** Bounds how long a query waits for a connection when the server is gone. */
  connectionTimeoutMillis?: number;
  /** Called for errors of idle pooled connections (a restarted server); they never crash the process. */
  onError?: (err: Error) => void;
}

/** int8 and numeric counters fit in a double for every value Stratus stores (tokens, epochs, counts). */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Distinct statement texts that get a prepared statement name; others go unnamed. */
const PREPARED_MAX = 2_000;
const statementNames = new Map<string, string>();

/**
 * A parameterized statement as a named prepared statement: each connection parses and plans a
 * text the first time it runs it, then only binds and executes (the server's parse and plan
 * were a large share of its CPU per job). One name per text for the process; past PREPARED_MAX
 * texts (a query built with varying text) the rest stay unnamed. Needs session pooling if a
 * pooler sits in front (docs/operations.md), as the elector already does.
 */
export function statement(sql: string, params?: readonly unknown[]): pg.QueryConfig {
  if (params === undefined) return { text: sql };
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < PREPARED_MAX) {
    name = `stratus_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name === undefined
    ? { text: sql, values: params as unknown[] }
    : { name, text: sql, values: params as unknown[] };
}

/** The shared connection settings for pooled and dedicated sessions. */
export function pgClientConfig(options: PgDatabaseOptions): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    application_name: options.applicationName ?? 'stratus',
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    keepAlive: true,
    types,
  };
}

/** A PostgreSQL database behind a `pg` pool. */
export function createPgDatabase(options: PgDatabaseOptions): Database {
  const pool = new pg.Pool({ ...pgClientConfig(options), max: options.max ?? 10 });
  pool.on('error', (err) => options.onError?.(err));
  let closed = false;

  const query = async <R extends Row = Row>(sql: string, params?: readonly unknown[]) => {
    const res = await pool.query(statement(sql, params));
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 } satisfies QueryResult<R>;
  };

  return {
    driver: 'pg',
    query,
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // pg-pool listens for errors only on idle clients: a connection that dies while checked
      // out (server restart, idle-in-transaction timeout, reset) would raise an unhandled
      // 'error' and end the process. The query in flight rejects anyway; the client is dropped.
      let broken: Error | boolean = false;
      const onError = (err: Error) => {
        broken = err;
        options.onError?.(err);
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<R extends Row = Row>(sql: string, params?: readonly unknown[]) {
            const res = await client.query(statement(sql, params));
            return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
          },
          async exec(sql) {
            await client.query(sql);
          },
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // The connection is unusable (server gone): drop it rather than return it to the pool.
          broken = true;
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async listen(channel, onNotify, onLost) {
      // LISTEN needs its own session for as long as it is subscribed; one client per channel.
      const client = new pg.Client(pgClientConfig(options));
      let ended = false;
      const lost = (err: Error) => {
        if (ended) return;
        ended = true;
        onLost?.(err);
      };
      client.on('error', (err) => {
        options.onError?.(err);
        lost(err);
      });
      client.on('end', () => lost(new Error('the listening connection ended')));
      client.on('notification', (n) => {
        if (n.channel === channel) onNotify(n.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (err) {
        ended = true;
        await client.end().catch(() => {});
        throw err;
      }
      return async () => {
        ended = true;
        await client.end().catch(() => {});
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
