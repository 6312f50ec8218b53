// The command line of the client commands, parsed once with node's util.parseArgs, and what
// every command gets: its positionals, its options, the output streams and the API client.

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { KindRegistry } from '../../core/resources/registry.js';
import { usageError } from './errors.js';
import { type ApiClient, createApiClient } from './http.js';
import { type Format, parseFormat } from './output.js';
import { resolveConnection } from './profile.js';

/** Every option of the client commands; `stratus <command> --help` says which ones each takes. */
export const OPTIONS = {
  output: { type: 'string', short: 'o' },
  profile: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  'idempotency-key': { type: 'string' },
  selector: { type: 'string', short: 'l' },
  file: { type: 'string', short: 'f' },
  set: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  cascade: { type: 'boolean' },
  follow: { type: 'boolean' },
  kind: { type: 'string' },
  resource: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** The parsed options. */
export type Options = {
  [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** What a command runs with. */
export interface Context {
  readonly positionals: readonly string[];
  readonly options: Options;
  readonly format: Format;
  readonly kinds: KindRegistry;
  readonly env: NodeJS.ProcessEnv;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  /** Whether stdout is a terminal: live progress only then. */
  readonly tty: boolean;
  /** The API client, made on first use (help and completion need no server). */
  client(): ApiClient;
  /** The Idempotency-Key of this invocation's mutation: `--idempotency-key`, else a new one. */
  readonly idempotencyKey: string;
  /** `--timeout` in ms (default 5 minutes), counted from the start of the command. */
  readonly timeoutMs: number;
  /** When `--wait` gives up (epoch ms). */
  readonly deadline: number;
}

/** `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw usageError(`${flag}: "${value}" is not a duration such as 30s, 5m or 500ms`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : m[2] === 'h' ? n * 3_600_000 : n * 1000);
}

/** A positive integer option, if given. */
export function intOption(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw usageError(`${flag}: "${value}" is not an integer of at least ${min}`);
  return Number(value);
}

/** Parses `argv` (the words after `stratus`) into a context; a bad option is a usage error. */
export function createContext(argv: readonly string[], kinds: KindRegistry, env: NodeJS.ProcessEnv): Context {
  let parsed: { values: Options; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }) as {
      values: Options;
      positionals: string[];
    };
  } catch (err) {
    // parseArgs' messages name the option; its hints about `--` are not ours to give.
    throw usageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { values: options, positionals } = parsed;
  const key = options['idempotency-key'];
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
    throw usageError('--idempotency-key: must be 1 to 255 visible ASCII characters');
  let client: ApiClient | undefined;
  const timeoutMs = options.timeout === undefined ? 300_000 : parseDuration(options.timeout, '--timeout');
  return {
    positionals,
    options,
    format: parseFormat(options.output),
    kinds,
    env,
    out: process.stdout,
    err: process.stderr,
    tty: process.stdout.isTTY === true,
    client() {
      client ??= createApiClient(
        resolveConnection({ url: options.url, apiKey: options['api-key'], profile: options.profile }, env),
      );
      return client;
    },
    idempotencyKey: key ?? `cli-${randomUUID()}`,
    timeoutMs,
    deadline: Date.now() + timeoutMs,
  };
}
