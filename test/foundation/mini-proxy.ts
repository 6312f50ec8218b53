import { createServer, type Server, Socket } from 'node:net';

/**
 * A loopback TCP forwarder whose far side can be made unreachable and reachable again,
 * for testing what the process does when PostgreSQL or Redis disappears without stopping
 * the machine's shared servers.
 */
export class OutageProxy {
  readonly #sockets = new Set<Socket>();
  #down = false;
  #server: Server | undefined;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.#server = createServer((client) => {
      if (this.#down) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      upstream.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  /** Cuts every connection and refuses new ones. */
  down(): void {
    this.#down = true;
    for (const s of this.#sockets) s.destroy();
  }

  up(): void {
    this.#down = false;
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}
