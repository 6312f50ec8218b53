// Sliding windows of call outcomes for the failure-rate rule. Both are O(1) per call:
// a ring of the last N outcomes, or a ring of time buckets; never a sort or a scan of
// timestamps per call.

/** Counts of the calls inside a window. */
export interface WindowCounts {
  /** Calls recorded in the window. */
  readonly calls: number;
  /** Of those, the failures (slow calls included). */
  readonly failures: number;
}

/** A sliding window of outcomes. */
export interface OutcomeWindow {
  /** Records one outcome at monotonic time `now`. */
  record(failure: boolean, now: number): void;
  /** The counts as of `now`. */
  counts(now: number): WindowCounts;
  /** Forgets everything. */
  reset(): void;
}

/** The last `size` outcomes. */
export class CountWindow implements OutcomeWindow {
  private readonly ring: Uint8Array;
  private index = 0;
  private calls = 0;
  private failures = 0;

  /** @param size how many of the latest outcomes to keep */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('window size must be a positive integer');
    this.ring = new Uint8Array(size);
  }

  /** @inheritdoc */
  record(failure: boolean): void {
    const value = failure ? 2 : 1;
    const old = this.ring[this.index]!;
    if (old === 0) this.calls++;
    else if (old === 2) this.failures--;
    if (failure) this.failures++;
    this.ring[this.index] = value;
    this.index = this.index + 1 === this.size ? 0 : this.index + 1;
  }

  /** @inheritdoc */
  counts(): WindowCounts {
    return { calls: this.calls, failures: this.failures };
  }

  /** @inheritdoc */
  reset(): void {
    this.ring.fill(0);
    this.index = 0;
    this.calls = 0;
    this.failures = 0;
  }
}

/** The outcomes of the last `sizeMs`, kept in `buckets` buckets of equal length. */
export class TimeWindow implements OutcomeWindow {
  private readonly bucketMs: number;
  private readonly calls: Uint32Array;
  private readonly failures: Uint32Array;
  private newest = Number.NEGATIVE_INFINITY;
  private totalCalls = 0;
  private totalFailures = 0;

  /**
   * @param sizeMs the window's length
   * @param buckets its resolution: the window slides by `sizeMs / buckets` at a time
   */
  constructor(
    readonly sizeMs: number,
    readonly buckets = 10,
  ) {
    if (!(sizeMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError('time window needs sizeMs > 0 and a positive integer bucket count');
    }
    this.bucketMs = sizeMs / buckets;
    this.calls = new Uint32Array(buckets);
    this.failures = new Uint32Array(buckets);
  }

  /** @inheritdoc */
  record(failure: boolean, now: number): void {
    const slot = this.advance(now);
    this.calls[slot]!++;
    this.totalCalls++;
    if (failure) {
      this.failures[slot]!++;
      this.totalFailures++;
    }
  }

  /** @inheritdoc */
  counts(now: number): WindowCounts {
    this.advance(now);
    return { calls: this.totalCalls, failures: this.totalFailures };
  }

  /** @inheritdoc */
  reset(): void {
    this.calls.fill(0);
    this.failures.fill(0);
    this.totalCalls = 0;
    this.totalFailures = 0;
    this.newest = Number.NEGATIVE_INFINITY;
  }

  /** Clears the buckets that slid out of the window; returns the slot of `now`'s bucket. */
  private advance(now: number): number {
    const epoch = Math.floor(now / this.bucketMs);
    const n = this.buckets;
    if (epoch > this.newest) {
      // At most `buckets` slots are cleared, however long the window sat idle.
      const steps = Math.min(n, epoch - this.newest);
      for (let k = 0; k < steps; k++) {
        const slot = (((epoch - k) % n) + n) % n;
        this.totalCalls -= this.calls[slot]!;
        this.totalFailures -= this.failures[slot]!;
        this.calls[slot] = 0;
        this.failures[slot] = 0;
      }
      this.newest = epoch;
    }
    // A reading older than the newest bucket (clock skew between callers) lands in the newest.
    return ((this.newest % n) + n) % n;
  }
}
