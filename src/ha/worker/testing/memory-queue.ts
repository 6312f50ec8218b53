import type { DeadLetter, Delivery, Queue, QueueStats } from '../../queue/port.js';
import { Waker } from '../wake.js';

interface Message {
  id: string;
  body: string;
  deliveries: number;
  state: 'ready' | 'pending' | 'delayed';
  consumer?: string;
  touchedAt: number;
  dueAt: number;
}

export interface MemoryQueueBroker {
  /** A consumer's view of the queue. */
  queue(consumer: string): Queue;
  /** Every message still in the queue (for assertions). */
  messages(): readonly Readonly<Message>[];
  deadLetters(): readonly DeadLetter[];
  /** Makes every delayed message due now (the test's stand-in for time passing). */
  expireDelays(): void;
}

/**
 * An in-memory implementation of the queue port for unit tests of the worker runtime: the
 * same visibility, reclaim, delayed and dead-letter rules as the real adapters, on one
 * process's memory. Crash tests and the benchmark use the real adapters.
 */
export function createMemoryQueueBroker(
  options: { visibilityTimeoutMs?: number; maxDeliveries?: number; now?: () => number } = {},
): MemoryQueueBroker {
  const visibility = options.visibilityTimeoutMs ?? 5_000;
  const maxDeliveries = options.maxDeliveries ?? 10;
  const now = options.now ?? Date.now;
  const messages = new Map<string, Message>();
  const dead: DeadLetter[] = [];
  const arrived = new Set<Waker>();
  let seq = 0;

  const ready = () => [...messages.values()].filter((m) => m.state === 'ready');
  const notify = () => {
    for (const w of arrived) w.wake();
  };
  const toDead = (m: Message, reason: string) => {
    messages.delete(m.id);
    dead.push({ id: m.id, body: m.body, reason, deliveries: m.deliveries });
  };
  const add = (body: string) => {
    const id = `${++seq}`;
    messages.set(id, { id, body, deliveries: 0, state: 'ready', touchedAt: 0, dueAt: 0 });
    return id;
  };

  return {
    messages: () => [...messages.values()],
    deadLetters: () => dead,
    expireDelays() {
      for (const m of messages.values()) m.dueAt = 0;
    },
    queue(consumer) {
      const own = (id: string) => {
        const m = messages.get(id);
        return m && m.state === 'pending' && m.consumer === consumer ? m : undefined;
      };
      return {
        async add(body) {
          const id = add(body);
          notify();
          return id;
        },
        async addBatch(bodies) {
          const ids = bodies.map(add);
          notify();
          return ids;
        },
        async receive(max, blockMs, signal) {
          const deadline = now() + blockMs;
          const waker = new Waker();
          arrived.add(waker);
          try {
            for (;;) {
              const got = ready().slice(0, max);
              if (got.length > 0 || signal?.aborted || now() >= deadline) {
                return got.map((m): Delivery => {
                  m.state = 'pending';
                  m.consumer = consumer;
                  m.deliveries++;
                  m.touchedAt = now();
                  return { id: m.id, body: m.body, deliveries: m.deliveries };
                });
              }
              await waker.wait(Math.max(1, deadline - now()), signal);
            }
          } finally {
            arrived.delete(waker);
          }
        },
        async ack(ids) {
          for (const id of ids) messages.delete(id);
        },
        async touch(ids) {
          for (const id of ids) {
            const m = own(id);
            if (m) m.touchedAt = now();
          }
        },
        async release(id, delayMs) {
          const m = messages.get(id);
          if (m?.state !== 'pending') return;
          m.consumer = undefined;
          if (delayMs <= 0) {
            m.state = 'ready';
            notify();
          } else {
            m.state = 'delayed';
            m.dueAt = now() + delayMs;
          }
        },
        async deadLetter(id, reason) {
          const m = messages.get(id);
          if (m) toDead(m, reason);
        },
        async reclaim(max) {
          const out: Delivery[] = [];
          for (const m of messages.values()) {
            if (out.length >= max) break;
            if (m.state !== 'pending' || now() - m.touchedAt < visibility) continue;
            if (m.deliveries >= maxDeliveries) {
              toDead(m, `exceeded ${maxDeliveries} deliveries`);
              continue;
            }
            m.deliveries++;
            m.consumer = consumer;
            m.touchedAt = now();
            out.push({ id: m.id, body: m.body, deliveries: m.deliveries });
          }
          return out;
        },
        async stats(): Promise<QueueStats> {
          const all = [...messages.values()];
          const pending = all.filter((m) => m.state === 'pending');
          return {
            length: all.filter((m) => m.state !== 'delayed').length,
            pending: pending.length,
            lag: ready().length,
            oldestPendingMs: pending.length ? now() - Math.min(...pending.map((m) => m.touchedAt)) : 0,
            delayed: all.filter((m) => m.state === 'delayed').length,
            deadLetters: dead.length,
          };
        },
        async deadLetters(limit) {
          return dead.slice(0, limit);
        },
        async promoteDelayed() {
          let moved = 0;
          for (const m of messages.values()) {
            if (m.state === 'delayed' && m.dueAt <= now()) {
              m.state = 'ready';
              moved++;
            }
          }
          if (moved > 0) notify();
          return moved;
        },
        async removeDeadConsumers() {
          return [];
        },
        async close() {},
      };
    },
  };
}
