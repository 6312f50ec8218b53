#!/usr/bin/env node
// Runs the compiled CLI (npm run build). During development use `npx tsx src/cli/main.ts`.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
