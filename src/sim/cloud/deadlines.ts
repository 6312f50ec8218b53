// Moments at which something in the simulated cloud is due, earliest first: a binary heap,
// so that finding what is due costs O(log n) per item and nothing for the rest.

/** A min-heap of (time, id). */
export class Deadlines {
  private readonly heap: { at: number; id: string }[] = [];

  /** How many are queued. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `id` as due at `at`. */
  push(id: string, at: number): void {
    const heap = this.heap;
    heap.push({ at, id });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  /** Takes every id due at or before `now`, earliest first. */
  due(now: number): string[] {
    const out: string[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) out.push(this.pop());
    return out;
  }

  private pop(): string {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && heap[left]!.at < heap[least]!.at) least = left;
        if (right < heap.length && heap[right]!.at < heap[least]!.at) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i]!, heap[least]!];
        i = least;
      }
    }
    return top.id;
  }
}
