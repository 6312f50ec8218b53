export {
  isQueueProtocolError,
  isQueueStalledError,
  QueueProtocolError,
  QueueStalledError,
} from './errors.js';
export type * from './port.js';
export { createPostgresQueue, type PostgresQueueOptions } from './postgres/postgres-queue.js';
export {
  createRedisStreamsQueue,
  type RedisStreamsQueueOptions,
} from './redis-streams/redis-streams-queue.js';
