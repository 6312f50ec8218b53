// Parsing of the query and header values of the resource routes. Each throws a BadRequestError
// naming the parameter, so a bad value is a 4xx with its path.

import { BadRequestError } from '../../control/errors.js';

/** Default and largest page sizes of a listing. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** The opaque cursor of the page after `lastId`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** The last id of the previous page. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,8}_[0-9a-z]{26}$/.test(id))
    throw new BadRequestError('/querystring/cursor', 'is not a cursor of this listing');
  return id;
}

/** `app=web,tier=db`: equality on every pair. */
export function parseLabelSelector(selector: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of selector.split(',')) {
    const m = /^\s*([a-zA-Z0-9][-a-zA-Z0-9_./]{0,62})\s*==?\s*([-a-zA-Z0-9_.]{0,63})\s*$/.exec(part);
    if (!m) throw new BadRequestError('/querystring/labelSelector', `"${part}" is not key=value`);
    labels[m[1]!] = m[2]!;
  }
  return labels;
}

/** The resourceVersion an `If-Match` header names (`"12"`, `W/"12"` or `*`), if any. */
export function parseIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const m = /^(?:W\/)?"(\d+)"$/.exec(value);
  if (!m) throw new BadRequestError('/headers/if-match', 'must be an ETag such as "12"');
  return m[1];
}

/** An `Idempotency-Key` header: 1 to 255 visible ASCII characters, if present. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(header))
    throw new BadRequestError(
      '/headers/idempotency-key',
      'must be 1 to 255 visible ASCII characters, sent once',
    );
  return header;
}

/** The ETag of a resource version. */
export function etag(resourceVersion: string): string {
  return `"${resourceVersion}"`;
}

/** Longest `?wait=`: a held request must not outlive a load balancer's idle timeout (60 s). */
export const MAX_WAIT_MS = 50_000;

/** `?wait=` as milliseconds: `500ms`, `5s`, `1m` or a bare number of seconds. */
export function parseWait(value: string): number {
  const m = /^(\d{1,6})(ms|s|m)?$/.exec(value);
  if (!m) throw new BadRequestError('/querystring/wait', 'must be a duration such as 500ms, 5s or 1m');
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  return Math.min(ms, MAX_WAIT_MS);
}
