// Group commit for the statements every reconcile pass makes (its start and its status write):
// the requests that arrive while statements are in flight wait, then ALL go in the next one.

/** Runs many requests in one statement; results in request order. */
export type BatchRunner<Req, Res> = (requests: readonly Req[]) => Promise<Res[]>;

interface Waiting<Req, Res> {
  readonly request: Req;
  resolve(value: Res): void;
  reject(err: unknown): void;
}

/**
 * Sends each request at once while fewer than `maxInFlight` statements are in flight, and the
 * ones that queued meanwhile together in the next. An idle worker pays nothing in latency; a
 * busy one pays one statement (one parse, one plan, one commit) for a whole batch, where every
 * pass used to send its own (two per instance made Ready, the largest share of the worker's
 * statements; see test/control/statements-per-job.test.ts).
 *
 * A batch that fails is run again one request at a time, so that one bad request (a row that
 * makes the statement fail, a deadlock victim) fails only its own caller.
 */
export class StatementBatcher<Req, Res> {
  #waiting: Waiting<Req, Res>[] = [];
  #inFlight = 0;

  /**
   * @param run the batched statement
   * @param maxInFlight statements of this batcher in flight at once: two, as the ledger's
   *   batcher (src/ha/worker/ledger-batcher.ts), so one is on its way while the other commits
   */
  constructor(
    private readonly run: BatchRunner<Req, Res>,
    private readonly maxInFlight = 2,
  ) {}

  /** Runs `request` in the next statement. */
  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.#waiting.push({ request, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#inFlight >= this.maxInFlight || this.#waiting.length === 0) return;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#inFlight++;
    void this.#send(batch).finally(() => {
      this.#inFlight--;
      this.#kick();
    });
  }

  async #send(batch: readonly Waiting<Req, Res>[]): Promise<void> {
    let results: Res[];
    try {
      results = await this.run(batch.map((w) => w.request));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      await Promise.all(
        batch.map((w) =>
          this.run([w.request]).then(
            ([result]) => w.resolve(result!),
            (own: unknown) => w.reject(own),
          ),
        ),
      );
      return;
    }
    for (const [i, w] of batch.entries()) w.resolve(results[i]!);
  }
}
