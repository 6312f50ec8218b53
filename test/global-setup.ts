// Makes sure the PostgreSQL and Redis of this machine answer before any test runs,
// starting them with the machine's own commands when they are down.
import { ensureServices } from './helpers/services.js';

export default async function setup(): Promise<void> {
  await ensureServices();
}
