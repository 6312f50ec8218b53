export {
  createRelayWaker,
  enqueue,
  enqueueBatch,
  enqueueQuiet,
  OUTBOX_CHANNEL,
  type RelayWaker,
} from './outbox.js';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.js';
export {
  createOutboxSweeper,
  type OutboxSweeper,
  type OutboxSweeperOptions,
  type SweepReport,
} from './sweeper.js';
