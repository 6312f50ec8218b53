import { Socket } from 'node:net';
import pg from 'pg';
import type { Row } from '../db/database.js';
import { pgClientConfig } from '../db/pg.js';
import { loadText } from '../db/sql-loader.js';
import type { ElectorSettings } from './settings.js';

const backendPid = loadText(new URL('./sql/backend-pid.sql', import.meta.url));

/**
 * A dedicated, unpooled PostgreSQL session for advisory locks. Never taken from a pool and
 * never through a transaction-pooling proxy: session locks live exactly as long as this
 * server session, which is the whole point. The server-side timeouts below are what bound a
 * hung or cut-off holder.
 */
export class LockSession {
  readonly #client: pg.Client;
  readonly #socket: () => Socket | undefined;
  #ended = false;
  /**
   * The last query sent, so the next one waits for it: `pg` queues a query sent while one
   * runs but warns that this is deprecated (and pg 9 refuses it), and a holder's heartbeat
   * can fire while a hand-over or a release is talking to the same session.
   */
  #tail: Promise<unknown> = Promise.resolve();
  #onEnd: ((err: Error) => void) | undefined;

  private constructor(
    client: pg.Client,
    socket: () => Socket | undefined,
    readonly pid: number,
  ) {
    this.#client = client;
    this.#socket = socket;
  }

  /**
   * Connects a session named `applicationName` (visible in pg_stat_activity). `onEnd` is
   * called once if the session ends other than by `close`/`destroy`.
   */
  static async open(
    connectionString: string,
    applicationName: string,
    settings: ElectorSettings,
  ): Promise<LockSession> {
    let socket: Socket | undefined;
    const client = new pg.Client({
      ...pgClientConfig({
        connectionString,
        // NAMEDATALEN: the server truncates longer names anyway.
        applicationName: applicationName.slice(0, 63),
        connectionTimeoutMillis: settings.connectTimeoutMs,
      }),
      keepAlive: true,
      keepAliveInitialDelayMillis: settings.keepalivesIdleS * 1000,
      // Our own socket, so a session stuck behind a dead network can be cut at once
      // (client.end() would wait for the server's goodbye).
      stream: () => {
        socket = new Socket();
        return socket;
      },
      options: [
        `-c idle_session_timeout=${settings.idleSessionTimeoutMs}`,
        `-c tcp_user_timeout=${settings.tcpUserTimeoutMs}`,
        `-c tcp_keepalives_idle=${settings.keepalivesIdleS}`,
        `-c tcp_keepalives_interval=${settings.keepalivesIntervalS}`,
        `-c tcp_keepalives_count=${settings.keepalivesCount}`,
        `-c client_connection_check_interval=${settings.clientCheckIntervalMs}`,
        // Waiters block inside pg_advisory_lock for as long as the holder lives.
        '-c statement_timeout=0',
        '-c lock_timeout=0',
      ].join(' '),
    });
    let session: LockSession | undefined;
    const ended = (err: Error) => {
      if (session) session.#end(err);
    };
    client.on('error', ended);
    client.on('end', () => ended(new Error('lock session ended')));
    try {
      await client.connect();
      const res = await client.query<{ pid: number }>(backendPid);
      session = new LockSession(client, () => socket, res.rows[0]!.pid);
      return session;
    } catch (err) {
      socket?.destroy();
      client.end().catch(() => {});
      throw err;
    }
  }

  /** True until the session ended, failed, or was closed. */
  get alive(): boolean {
    return !this.#ended;
  }

  /** Sets the callback for an unexpected end (error, terminated backend, closed socket). */
  onEnd(callback: (err: Error) => void): void {
    this.#onEnd = callback;
  }

  /** Runs one statement once every statement sent before it on this session has finished. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    const run = async () => {
      if (this.#ended) throw new Error('lock session has ended');
      const res = await this.#client.query(sql, params as unknown[]);
      return res.rows as R[];
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => {});
    return result;
  }

  #end(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket()?.destroy();
    const cb = this.#onEnd;
    this.#onEnd = undefined;
    cb?.(err);
  }

  /**
   * Cuts the connection at once without waiting for the server. The server ends the backend
   * (and frees its locks) as soon as it notices: at once for an idle session, within
   * `client_connection_check_interval` for a blocked waiter.
   */
  destroy(): void {
    this.#onEnd = undefined;
    this.#end(new Error('lock session destroyed'));
  }

  /** Ends the session politely (the server frees its locks at once), cutting it after `waitMs`. */
  async close(waitMs = 1_000): Promise<void> {
    if (this.#ended) return;
    this.#onEnd = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#client.end().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
    this.#ended = true;
    this.#socket()?.destroy();
  }
}
