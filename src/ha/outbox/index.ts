export { enqueue, enqueueBatch, OUTBOX_CHANNEL } from './outbox.js';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.js';
export {
  createOutboxSweeper,
  type OutboxSweeper,
  type OutboxSweeperOptions,
  type SweepReport,
} from './sweeper.js';
