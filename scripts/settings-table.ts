// Prints the settings table in Markdown, for docs/operations.md (a test holds the two equal).
import { settingsMarkdown } from '../src/config/table.js';

process.stdout.write(`${settingsMarkdown()}\n`);
