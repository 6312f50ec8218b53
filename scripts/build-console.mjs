// Builds the web console (src/console) into dist/console with Vite, then stamps it, so that
// `npm start` and the console's test rebuild it only when its sources changed. Run by
// `npm run build`, by `npm start` when dist/ is stale, and by the console test when the console is.
import { build } from 'vite';
import { CONSOLE_CONFIG, writeConsoleStamp } from './build-state.mjs';

await build({ configFile: CONSOLE_CONFIG });
writeConsoleStamp();
