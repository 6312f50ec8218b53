import type { Runnable } from './runnable.js';

export interface StopReport {
  /** Runnables that returned before the deadline. */
  stopped: string[];
  /** Runnables still running when the deadline passed. */
  timedOut: string[];
}

export interface ServiceManagerOptions {
  /** Told when a runnable fails or returns on its own while the manager runs. */
  onExit?: (name: string, error: Error | undefined) => void;
}

/**
 * Owns the background runnables of one process: starts them all, and stops them all with one
 * abort and a shared deadline. A runnable that fails does not stop the others.
 */
export class ServiceManager {
  readonly #runnables: Runnable[] = [];
  readonly #running = new Map<string, Promise<void>>();
  readonly #controller = new AbortController();
  #started = false;

  constructor(private readonly options: ServiceManagerOptions = {}) {}

  /** Registers a runnable; names must be unique. Only before `start`. */
  add(runnable: Runnable): this {
    if (this.#started) throw new Error(`cannot add ${runnable.name}: the service manager has started`);
    if (this.#runnables.some((r) => r.name === runnable.name)) {
      throw new Error(`a runnable named ${runnable.name} is already registered`);
    }
    this.#runnables.push(runnable);
    return this;
  }

  get names(): string[] {
    return this.#runnables.map((r) => r.name);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const signal = this.#controller.signal;
    for (const r of this.#runnables) {
      const done = Promise.resolve()
        .then(() => r.start(signal))
        .then(
          () => {
            if (!signal.aborted) this.options.onExit?.(r.name, undefined);
          },
          (err: unknown) => {
            this.options.onExit?.(r.name, err instanceof Error ? err : new Error(String(err)));
          },
        );
      this.#running.set(r.name, done);
    }
  }

  /** Aborts every runnable and waits for them, at most `deadlineMs`. */
  async stop(deadlineMs: number): Promise<StopReport> {
    this.#controller.abort();
    const stopped: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([
      Promise.all([...this.#running].map(([name, p]) => p.then(() => stopped.push(name)))),
      deadline,
    ]);
    clearTimeout(timer);
    const timedOut = [...this.#running.keys()].filter((n) => !stopped.includes(n));
    return { stopped, timedOut };
  }
}
