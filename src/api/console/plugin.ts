// `/console`: the web console's built files (src/console, built by Vite into dist/console),
// served as they are. The hashed assets under /console/assets never change under their name, so
// they are cached for a year; index.html names the current ones, so it is revalidated on every
// load. Every answer carries a Content-Security-Policy that admits this origin only: the console
// talks to the API it is served by and nothing else (no CDN, no web font, no inline script).

import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { sendProblem } from '../problem.js';

/**
 * The policy of every console answer. `img-src blob:` is for the drill timeline, fetched with
 * the key and shown from a blob; `style-src 'self'` has no 'unsafe-inline': the console sets no
 * style attribute, only classes of its own stylesheet.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The year a hashed asset is cached for, in seconds. */
const ASSET_MAX_AGE_S = 365 * 24 * 3600;

/**
 * Where the build is: next to the compiled server (dist/api/console → dist/console), or, when the
 * server runs from its TypeScript sources, in dist/console of the repository.
 */
export function defaultConsoleDir(): string {
  const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
  return fileURLToPath(new URL(fromSources ? '../../../dist/console/' : '../../console/', import.meta.url));
}

/** Options of {@link consoleRoutes}. */
export interface ConsoleOptions {
  /** The built console; default {@link defaultConsoleDir}. */
  readonly dir?: string;
}

/** Registers `/console` (and `/console/…`); a 503 naming the build step when it is not built. */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const dir = options.dir ?? defaultConsoleDir();
  await app.register(async (scope) => {
    scope.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      done(null, payload);
    });
    scope.get('/console', (_request, reply) => reply.redirect('/console/', 308));
    if (!existsSync(join(dir, 'index.html'))) {
      scope.get('/console/*', (_request, reply) =>
        sendProblem(reply, 503, 'UNAVAILABLE', 'the console is not built: run `npm run build`'),
      );
      return;
    }
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: '/console/',
      index: 'index.html',
      // Answers set their own cache policy below; send's default (max-age=0) would hide it.
      cacheControl: false,
      dotfiles: 'ignore',
      setHeaders: (reply, path) => {
        reply.header(
          'cache-control',
          relative(dir, path).startsWith(`assets${sep}`)
            ? `public, max-age=${ASSET_MAX_AGE_S}, immutable`
            : 'no-cache',
        );
      },
    });
  });
}
