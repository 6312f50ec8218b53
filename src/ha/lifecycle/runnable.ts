/**
 * Everything long-running in Stratus is a runnable: `start(signal)` runs until `signal`
 * aborts, then returns once its work has stopped. It rejects only on a failure it cannot
 * recover from by itself.
 */
export interface Runnable {
  /** Appears in logs and in the shutdown report. */
  readonly name: string;
  /** Runs only on the replica that leads (the leader guard starts it). */
  readonly needsLeadership?: boolean;
  start(signal: AbortSignal): Promise<void>;
}
