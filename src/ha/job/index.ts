export {
  encodeEnvelope,
  type JobEnvelope,
  type NewJob,
  type ParsedEnvelope,
  parseEnvelope,
} from './envelope.js';
export { InvalidJobError, isInvalidJobError } from './errors.js';
export {
  bodyProblem,
  identifierProblem,
  MAX_BODY_BYTES,
  MAX_JOB_KEY_BYTES,
  MAX_JOB_KIND_BYTES,
} from './limits.js';
export { coerceError, type JobLogger, silentLogger } from './logger.js';
export { delay, Waker } from './wake.js';
