// Group commit: items submitted while a batch is in flight wait for the next batch, and each
// batch is one call of `run` (for creates, one statement and one COMMIT for all its items).
// Nothing waits on a timer: with fewer than `maxInFlight` batches running, whatever is queued
// leaves at once, so a lone request goes out alone and as soon as it came; under load the
// queue fills while the batches in flight commit, and the next batch takes up to `maxBatch`.

/** Options of {@link createBatcher}. */
export interface BatcherOptions<I, O> {
  /** Runs one batch: one outcome per item, in the items' order. A throw fails every item of it. */
  readonly run: (items: readonly I[]) => Promise<readonly O[]>;
  /** Items per batch at most. */
  readonly maxBatch: number;
  /** Batches running at once at most. */
  readonly maxInFlight: number;
}

/** Gathers concurrent items into batches. */
export interface Batcher<I, O> {
  /** The item's outcome, or the error of its whole batch. */
  submit(item: I): Promise<O>;
}

interface Queued<I, O> {
  readonly item: I;
  readonly resolve: (outcome: O) => void;
  readonly reject: (err: unknown) => void;
}

/** Builds a batcher over `run`; it holds no timer and nothing to close. */
export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const { run, maxBatch, maxInFlight } = options;
  if (!(maxBatch >= 1 && maxInFlight >= 1))
    throw new RangeError('maxBatch and maxInFlight must be at least 1');
  const queue: Queued<I, O>[] = [];
  let inFlight = 0;

  const send = (batch: Queued<I, O>[]) => {
    inFlight++;
    let outcomes: Promise<readonly O[]>;
    try {
      outcomes = run(batch.map((q) => q.item));
    } catch (err) {
      outcomes = Promise.reject(err);
    }
    outcomes
      .then((done) => {
        if (done.length !== batch.length)
          throw new Error(`a batch of ${batch.length} got ${done.length} outcomes`);
        for (const [i, q] of batch.entries()) q.resolve(done[i]!);
      })
      .catch((err: unknown) => {
        for (const q of batch) q.reject(err);
      })
      .finally(() => {
        inFlight--;
        flush();
      });
  };

  const flush = () => {
    while (inFlight < maxInFlight && queue.length > 0) send(queue.splice(0, maxBatch));
  };

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        flush();
      });
    },
  };
}
