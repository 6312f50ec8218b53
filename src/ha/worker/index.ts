export { encodeEnvelope, type JobEnvelope, type NewJob, parseEnvelope } from '../job/envelope.js';
export { coerceError, type JobLogger, silentLogger } from '../job/logger.js';
export { type BackoffOptions, fullJitterBackoff } from './backoff.js';
export {
  isJobTimeoutError,
  isLeaseLostError,
  isTerminalJobError,
  isWorkerShutdownError,
  JobTimeoutError,
  LeaseLostError,
  TerminalJobError,
  WorkerShutdownError,
} from './errors.js';
export type * from './types.js';
export { createWorker, type Worker } from './worker.js';
