// Options shared by every backend port. Reads take a signal; every destructive operation
// also takes a client token (a repeat returns the first result and has no second effect)
// and, optionally, a fencing token (the backend refuses one older than the newest it saw
// for the same resource, so a deposed owner cannot act).

/** Options of a read. */
export interface CallOptions {
  /** Aborts the call; the backend stops work it no longer needs to do. */
  readonly signal?: AbortSignal;
}

/** Options of a destructive operation. */
export interface MutationOptions extends CallOptions {
  /**
   * Idempotency key chosen by the caller (the job key). A repeat with the same token
   * returns the first result; the same token with different parameters is a conflict.
   */
  readonly clientToken: string;
  /** The caller's lease or leadership epoch; the backend refuses an older one per resource. */
  readonly fencingToken?: number;
  /** Who calls (the node id), recorded in the backend's audit; default unknown. */
  readonly caller?: string;
}

/** Filter and page of a listing. */
export interface ListOptions extends CallOptions {
  /** Only resources whose labels include all of these. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Page size; the backend may cap it. */
  readonly limit?: number;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string;
}

/** One page of a listing. */
export interface Page<T> {
  /** The resources of this page. */
  readonly items: readonly T[];
  /** Cursor of the next page; absent on the last one. */
  readonly nextCursor?: string;
}

/** Every port answers a health ping. */
export interface Pingable {
  /** Resolves when the backend answers; rejects (Unavailable) when it does not. */
  ping(options?: CallOptions): Promise<void>;
}
