import { randomBytes } from 'node:crypto';

// Crockford base32: no I, L, O, U, so ids read aloud and survive case folding.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A new id `<prefix>_<26 chars>`: 48 bits of milliseconds then 80 random bits, like a ULID, so
 * that ids sort by creation time (listing pages by id) and never collide in practice.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let out = '';
  let time = now;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[time % 32] + out;
    time = Math.floor(time / 32);
  }
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >> bits) & 31];
    }
  }
  return `${prefix}_${out}`;
}
