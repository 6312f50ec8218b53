// A drill that starts its cluster and then holds it (the cleanup test SIGKILLs it):
// `hold-cluster <run dir> <database url> <run id>`; prints `started` once everything is up.

import { ProcessGroup } from '../../src/drill/cluster/group.js';

const [dir, databaseUrl, runId] = process.argv.slice(2);
const group = new ProcessGroup({
  dir: dir!,
  databaseUrl: databaseUrl!,
  runId: runId!,
  replicas: { api: 1, worker: 1 },
});
await group.start();
process.stdout.write('started\n');
setInterval(() => {}, 60_000);
