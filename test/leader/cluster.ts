// Spawns and watches campaigner processes (campaigner.ts) for the multi-process tests and
// the failover benchmark. Events arrive as parsed JSON lines; waits are event-driven with
// deadlines, never sleeps.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CampaignerConfig } from './campaigner.js';

export interface CampaignerEvent {
  ev: string;
  node: string;
  /** Wall-clock ms of the child. */
  t: number;
  key?: string;
  epoch?: number;
  ok?: boolean;
  code?: string;
  n?: number;
  reason?: string;
  pid?: number;
  [more: string]: unknown;
}

type Waiter = { match: (e: CampaignerEvent) => boolean; resolve: (e: CampaignerEvent) => void };

/** Events as they arrive, and waits on them with deadlines (never sleeps). */
export class EventLog {
  readonly events: CampaignerEvent[] = [];
  #waiters: Waiter[] = [];

  /** @param describe What a timeout message adds (the children's stderr). */
  constructor(private readonly describe: () => string) {}

  push(event: CampaignerEvent): void {
    this.events.push(event);
    for (const w of [...this.#waiters]) {
      if (w.match(event)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  }

  /** Resolves with the first event (past or future) matching `match`. */
  waitFor(match: (e: CampaignerEvent) => boolean, timeoutMs: number, what: string): Promise<CampaignerEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return this.next(match, timeoutMs, what);
  }

  /** Resolves with the next future event matching `match`. */
  next(match: (e: CampaignerEvent) => boolean, timeoutMs: number, what: string): Promise<CampaignerEvent> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`));
      }, timeoutMs);
      // A wait nobody needs any more must not keep the process alive.
      timer.unref();
      this.#waiters.push(waiter);
    });
  }

  /** Resolves once `holds()` is true, checking now and after every event. */
  async until(holds: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (!holds()) await this.next(() => holds(), timeoutMs, what);
  }
}

const entry = new URL('./campaigner.ts', import.meta.url).pathname;

/** One campaigner child process. */
export class Campaigner {
  readonly log = new EventLog(() => `${this.nodeId}: ${this.stderr}`);
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #stopped = false;
  stderr = '';

  constructor(
    readonly config: CampaignerConfig,
    onEvent?: (e: CampaignerEvent) => void,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', entry, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => {});
    this.child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-4_000);
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as CampaignerEvent;
      this.log.push(event);
      onEvent?.(event);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        // Recorded by the parent, so waits on who is alive are woken when a member dies.
        const gone: CampaignerEvent = { ev: 'gone', node: config.nodeId, t: wallNow() };
        this.log.push(gone);
        onEvent?.(gone);
        resolve();
      }),
    );
  }

  get events(): readonly CampaignerEvent[] {
    return this.log.events;
  }

  get nodeId(): string {
    return this.config.nodeId;
  }

  /** Whether the process was stopped with SIGSTOP and not continued. */
  get stopped(): boolean {
    return this.#stopped;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first event (past or future) matching `match`. */
  waitFor(match: (e: CampaignerEvent) => boolean, timeoutMs: number, what: string): Promise<CampaignerEvent> {
    return this.log.waitFor(match, timeoutMs, what);
  }

  /** Resolves with the next future event matching `match`. */
  next(match: (e: CampaignerEvent) => boolean, timeoutMs: number, what: string): Promise<CampaignerEvent> {
    return this.log.next(match, timeoutMs, what);
  }

  signal(sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM'): number {
    const at = wallNow();
    if (!this.alive) return at;
    this.child.kill(sig);
    if (sig === 'SIGSTOP') this.#stopped = true;
    if (sig === 'SIGCONT' || sig === 'SIGKILL') this.#stopped = false;
    return at;
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The current term this process believes it holds for `key` (from its events). */
  believedEpoch(key: string): number | undefined {
    let epoch: number | undefined;
    for (const e of this.events) {
      if (e.key !== key) continue;
      if (e.ev === 'elected') epoch = e.epoch;
      if ((e.ev === 'lost' || e.ev === 'ended') && e.epoch === epoch) epoch = undefined;
    }
    return epoch;
  }

  /** Ends the process: continues it if stopped, asks it to stop, kills it after `graceMs`. */
  async end(graceMs = 3_000): Promise<void> {
    if (!this.alive) return;
    if (this.#stopped) this.signal('SIGCONT');
    this.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * A set of campaigners sharing one configuration, with one merged event stream. A killed
 * member stays in `members` (its events are history); `spawn` starts its successor.
 */
export class Cluster {
  readonly members: Campaigner[] = [];
  readonly log = new EventLog(() => this.members.map((m) => `${m.nodeId}: ${m.stderr}`).join('\n'));

  constructor(readonly base: Omit<CampaignerConfig, 'nodeId'>) {}

  spawn(nodeId: string, overrides: Partial<CampaignerConfig> = {}): Campaigner {
    const member = new Campaigner({ ...this.base, ...overrides, nodeId }, (e) => this.log.push(e));
    this.members.push(member);
    return member;
  }

  /** Every member's events, in the order they arrived. */
  get events(): readonly CampaignerEvent[] {
    return this.log.events;
  }

  /** Members still running (stopped ones included). */
  get alive(): Campaigner[] {
    return this.members.filter((m) => m.alive);
  }

  /** Resolves with the first event of any member, past or future, matching `match`. */
  waitFor(match: (e: CampaignerEvent) => boolean, timeoutMs: number, what: string): Promise<CampaignerEvent> {
    return this.log.waitFor(match, timeoutMs, what);
  }

  /** Resolves with the next future event of any member matching `match`. */
  next(match: (e: CampaignerEvent) => boolean, timeoutMs: number, what: string): Promise<CampaignerEvent> {
    return this.log.next(match, timeoutMs, what);
  }

  /** Running members that believe they lead `key`. */
  believedLeaders(key: string): Campaigner[] {
    return this.alive.filter((m) => m.believedEpoch(key) !== undefined);
  }

  /**
   * Waits until each key has exactly one running member that believes it leads it and has
   * started its singleton, and returns them. A deposed member that was just woken and has
   * not yet noticed its loss is waited out, not counted as a second leader.
   */
  async leadersOf(keys: readonly string[], timeoutMs: number): Promise<Map<string, Campaigner>> {
    const out = new Map<string, Campaigner>();
    for (const key of keys) {
      const single = () => {
        const leaders = this.believedLeaders(key);
        if (leaders.length !== 1 || leaders[0]!.stopped) return false;
        const epoch = leaders[0]!.believedEpoch(key);
        return leaders[0]!.events.some((e) => e.ev === 'started' && e.key === key && e.epoch === epoch);
      };
      await this.log.until(single, timeoutMs, `a single leader of ${key}`);
      out.set(key, this.believedLeaders(key)[0]!);
    }
    return out;
  }

  /**
   * Waits until `count` candidate sessions are blocked in the lock queues of `db`'s
   * database: with n members and k keys, (n - 1) * k once every non-leader has queued.
   */
  static async waitQueued(
    db: { query(sql: string): Promise<{ rows: unknown[] }> },
    count: number,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
         AND application_name LIKE 'stratus-candidate:%' AND wait_event_type = 'Lock'`,
      );
      if (res.rows.length >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${res.rows.length} of ${count} candidates queued`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Ends every member still running. */
  async end(): Promise<void> {
    await Promise.all(this.members.map((m) => m.end()));
  }
}

/** Wall-clock now, comparable with the children's event times. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
