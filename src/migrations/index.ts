import { readMigrations } from '../ha/db/migrate.js';

/** Every migration of Stratus, numbered and append-only: never edit one that has shipped. */
export const migrations = readMigrations(new URL('./', import.meta.url));
