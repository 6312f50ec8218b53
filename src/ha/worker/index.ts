export { encodeEnvelope, type JobEnvelope, type NewJob, parseEnvelope } from '../job/envelope.js';
export { InvalidJobError, isInvalidJobError } from '../job/errors.js';
export { coerceError, type JobLogger, silentLogger } from '../job/logger.js';
export { type BackoffOptions, fullJitterBackoff } from './backoff.js';
export {
  DeferJobError,
  IllegalTransitionError,
  isDeferJobError,
  isIllegalTransitionError,
  isJobTimeoutError,
  isLeaseLostError,
  isTerminalJobError,
  isWorkerShutdownError,
  JobTimeoutError,
  LeaseLostError,
  TerminalJobError,
  WorkerShutdownError,
} from './errors.js';
export type { JobState } from './held-job.js';
export { WORKER_DEFAULTS } from './settings.js';
export type * from './types.js';
export { createWorker, type Worker } from './worker.js';
