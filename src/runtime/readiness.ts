/** One dependency the process needs before it can serve: the database, Redis, ... */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  /** Present while the process shuts down. */
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, { ok: boolean; error?: string }>;
}

function withTimeout(p: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs every check at once, each bounded by `timeoutMs`, so that /readyz answers promptly
 * even when a dependency hangs. A process that is shutting down is never ready.
 */
export class Readiness {
  #shuttingDown = false;

  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly timeoutMs = 1_000,
  ) {}

  /** Turns readiness off for good: the first step of a graceful shutdown. */
  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          await withTimeout(c.check(), this.timeoutMs, c.name);
          return [c.name, { ok: true }] as const;
        } catch (err) {
          return [c.name, { ok: false, error: (err as Error).message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const allOk = results.every(([, r]) => r.ok);
    if (this.#shuttingDown) return { ready: false, status: 'shutting_down', checks };
    return { ready: allOk, status: allOk ? 'ready' : 'not_ready', checks };
  }
}
