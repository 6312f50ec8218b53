import { createServer, type Server, Socket } from 'node:net';

/**
 * A fault-injecting TCP proxy on loopback for drills (one per replica and store) and tests: forwards
 * 127.0.0.1:<port> to a target and can be switched, like a network would fail, between
 *
 * - `blackhole()`: nothing passes either way (data, end, close) but every socket stays open,
 *   as in a partition: peers see silence, not an error;
 * - `reset()`: every connection is cut with a TCP reset, both sides;
 * - `resume()`: forwarding resumes; what a blackhole held back is delivered in order.
 */
export interface TcpProxy {
  /** The local port to connect to. */
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Whether the proxy is blackholing. */
  readonly blackholed: boolean;
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  blackhole(): void;
  resume(): void;
  reset(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/** One direction of one connection: forwards `from` to `to` unless the proxy holds it. */
class Direction {
  readonly #held: Buffer[] = [];
  #endHeld = false;

  constructor(
    readonly from: Socket,
    readonly to: Socket,
    private readonly holding: () => boolean,
  ) {
    from.on('data', (chunk: Buffer) => {
      if (this.holding()) {
        this.#held.push(chunk);
        from.pause();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!this.holding()) from.resume();
        });
      }
    });
    from.on('end', () => {
      if (this.holding()) this.#endHeld = true;
      else to.end();
    });
  }

  hold(): void {
    this.from.pause();
  }

  release(): void {
    for (const chunk of this.#held.splice(0)) this.to.write(chunk);
    if (this.#endHeld) this.to.end();
    this.from.resume();
  }
}

interface Pair {
  client: Socket;
  upstream: Socket;
  directions: [Direction, Direction];
}

/** Starts a proxy to `target` (a `host:port` or a postgres:// / redis:// URL). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port: targetPort } = target.includes('://')
    ? new URL(target)
    : new URL(`tcp://${target}`);
  const pairs = new Set<Pair>();
  let holding = false;
  const isHolding = () => holding;

  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = new Socket();
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      upstream,
      directions: [new Direction(client, upstream, isHolding), new Direction(upstream, client, isHolding)],
    };
    if (holding) for (const d of pair.directions) d.hold();
    pairs.add(pair);
    const drop = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    // An error or close on one side reaches the other only while forwarding: a blackhole
    // keeps the other side open, as a partition would.
    const onGone = () => {
      if (!holding) drop();
    };
    client.on('error', onGone);
    upstream.on('error', onGone);
    client.on('close', onGone);
    upstream.on('close', onGone);
    upstream.connect(Number(targetPort), hostname === 'localhost' ? '127.0.0.1' : hostname);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');

  const cutAll = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const socket of [pair.client, pair.upstream]) {
        try {
          socket.resetAndDestroy();
        } catch {
          socket.destroy();
        }
      }
    }
  };

  return {
    port: address.port,
    get connections() {
      return pairs.size;
    },
    get blackholed() {
      return holding;
    },
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(address.port);
      return u.toString();
    },
    blackhole() {
      holding = true;
      for (const pair of pairs) for (const d of pair.directions) d.hold();
    },
    resume() {
      holding = false;
      for (const pair of [...pairs]) {
        if (pair.client.destroyed || pair.upstream.destroyed) {
          // A side that closed while held: propagate it now.
          pairs.delete(pair);
          pair.client.destroy();
          pair.upstream.destroy();
          continue;
        }
        for (const d of pair.directions) d.release();
      }
    },
    reset() {
      cutAll();
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
