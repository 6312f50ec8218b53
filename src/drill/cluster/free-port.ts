import { createServer } from 'node:net';

/**
 * A loopback port free now. A drill fixes every port before it starts anything, so HAProxy's
 * configuration and the replicas' settings can name them, and a restarted process comes back
 * on the same one.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
