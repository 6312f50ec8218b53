import { describe, expect, it } from 'vitest';
import { encodeEnvelope, parseEnvelope } from './envelope.js';
import { isInvalidJobError } from './errors.js';
import { MAX_BODY_BYTES, MAX_JOB_KEY_BYTES } from './limits.js';

describe('job envelope', () => {
  it('round-trips and rejects what is not a job, saying why', () => {
    const body = encodeEnvelope({ key: 'k', kind: 'provision', payload: { a: 1 }, maxAttempts: 3 }, 42);
    expect(parseEnvelope(body)).toEqual({
      ok: true,
      job: { v: 1, key: 'k', kind: 'provision', payload: { a: 1 }, maxAttempts: 3, enqueuedAt: 42 },
    });
    expect(parseEnvelope('[]')).toEqual({ ok: false, reason: 'body is not a JSON object' });
    expect(parseEnvelope('{"v":1,"kind":"x"}')).toEqual({ ok: false, reason: 'envelope has no key' });
    expect(parseEnvelope('{"v":1,"key":"k","kind":"x","maxAttempts":0}')).toMatchObject({ ok: false });
  });

  it('refuses at enqueue the keys PostgreSQL cannot store, with the precise reason', () => {
    const bad = [
      ['nul\u0000key', 'job key contains the control character U+0000 at index 3'],
      [
        'k'.repeat(MAX_JOB_KEY_BYTES + 1),
        `job key is ${MAX_JOB_KEY_BYTES + 1} bytes long (at most ${MAX_JOB_KEY_BYTES})`,
      ],
      ['lone\ud800', 'job key contains an unpaired UTF-16 surrogate at index 4'],
    ] as const;
    for (const [key, reason] of bad) {
      let thrown: unknown;
      try {
        encodeEnvelope({ key, kind: 'k' });
      } catch (err) {
        thrown = err;
      }
      expect(isInvalidJobError(thrown)).toBe(true);
      expect((thrown as Error).message).toBe(`invalid job: ${reason}`);
    }
    expect(() => encodeEnvelope({ key: 'k', kind: 'k', payload: 'x'.repeat(MAX_BODY_BYTES) })).toThrow(
      /body is \d+ bytes long/,
    );
    // A multi-byte key is measured in bytes, not characters, and a paired surrogate is fine.
    expect(() => encodeEnvelope({ key: 'é'.repeat(MAX_JOB_KEY_BYTES / 2), kind: 'k' })).not.toThrow();
    expect(() => encodeEnvelope({ key: 'é'.repeat(MAX_JOB_KEY_BYTES / 2 + 1), kind: 'k' })).toThrow();
    expect(() => encodeEnvelope({ key: 'emoji-\u{1F600}', kind: 'k' })).not.toThrow();
  });

  it('refuses the same at receive, from a body written by another producer', () => {
    expect(parseEnvelope('{"v":1,"key":"a\\u0000b","kind":"k"}')).toEqual({
      ok: false,
      reason: 'job key contains the control character U+0000 at index 1',
    });
    expect(parseEnvelope(JSON.stringify({ v: 1, key: 'k'.repeat(3000), kind: 'k' }))).toEqual({
      ok: false,
      reason: `job key is 3000 bytes long (at most ${MAX_JOB_KEY_BYTES})`,
    });
    expect(parseEnvelope('{"v":1,"key":7,"kind":"k"}')).toEqual({
      ok: false,
      reason: 'job key must be a non-empty string',
    });
    expect(parseEnvelope('{"v":1,"key":"k","kind":"a\\nb"}')).toMatchObject({ ok: false });
    expect(
      parseEnvelope(`{"v":1,"key":"k","kind":"k","payload":"${'x'.repeat(MAX_BODY_BYTES)}"}`),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^body is \d+ bytes long/),
    });
  });

  it("carries the producing request's traceparent, and drops a malformed one instead of refusing the job", () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = parseEnvelope(encodeEnvelope({ key: 'k', kind: 'x', trace }, 1));
    expect(traced).toEqual({
      ok: true,
      job: { v: 1, key: 'k', kind: 'x', payload: null, enqueuedAt: 1, trace },
    });
    for (const bad of [
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      'x'.repeat(200),
    ]) {
      expect(parseEnvelope(encodeEnvelope({ key: 'k', kind: 'x', trace: bad }, 1))).toEqual({
        ok: true,
        job: { v: 1, key: 'k', kind: 'x', payload: null, enqueuedAt: 1 },
      });
      const foreign = JSON.stringify({ v: 1, key: 'k', kind: 'x', enqueuedAt: 1, trace: bad });
      expect(parseEnvelope(foreign)).toEqual({
        ok: true,
        job: { v: 1, key: 'k', kind: 'x', payload: null, enqueuedAt: 1 },
      });
    }
  });
});
