// The API key format: `stratus_<id>_<secret><checksum>`.
//   id        12 base62 characters, public: the row the key is looked up by (and shown in lists);
//   secret    32 base62 characters from the CSPRNG (≈190 bits), never stored;
//   checksum  6 base62 characters of the CRC-32 of everything before it, so a secret scanner
//             (or this server, before any database read) can tell a real key from a look-alike.
// The prefix `stratus_` makes leaked keys recognisable by pattern, like GitHub's `ghp_` tokens.

import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const KEY_PREFIX = 'stratus_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

/** The whole key, for a scanner: `stratus_` + 12 + `_` + 38 base62 characters. */
export const KEY_PATTERN = /^stratus_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

function randomBase62(length: number): string {
  let out = '';
  // randomInt is uniform (rejection sampling), so every character carries log2(62) bits.
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** CRC-32 of `text` as 6 base62 digits (62^6 > 2^32), most significant first. */
export function checksumOf(text: string): string {
  let n = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * SHA-256 of a secret, hex. A slow password hash (bcrypt, scrypt) protects low-entropy secrets
 * people choose; these secrets are 190 random bits, so brute force of a leaked hash is out of
 * reach anyway, and a fast hash keeps an uncached verification at microseconds.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether a secret hashes to `hash`, in time independent of where they differ. */
export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A new key: its id, the whole token (shown once) and the hash to store. */
export interface NewKey {
  readonly id: string;
  readonly token: string;
  readonly secretHash: string;
}

export function generateKey(): NewKey {
  const id = randomBase62(ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${KEY_PREFIX}${id}_${secret}`;
  return { id, token: body + checksumOf(body), secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key with a right checksum; undefined for anything else. */
export function parseKey(token: string): { id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(token);
  if (!m) return undefined;
  const [, id, secret, checksum] = m as unknown as [string, string, string, string];
  if (checksumOf(`${KEY_PREFIX}${id}_${secret}`) !== checksum) return undefined;
  return { id, secret };
}
