export { isStaleLeaseError, StaleLeaseError } from './errors.js';
export type * from './port.js';
export { createPostgresLedger } from './postgres-ledger.js';
