import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, wantsColor } from './logger.js';

function capture(isTTY: boolean, env: Record<string, string>): string {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: 'info', nodeId: 'n1', role: 'all' }, { destination, isTTY, env });
  logger.info('hello');
  return text;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape of a terminal colour
const ansi = /\u001b\[/;

describe('process logger', () => {
  it('colours a terminal unless NO_COLOR is set, and writes JSON elsewhere', () => {
    expect(capture(true, {})).toMatch(ansi);
    const plain = capture(true, { NO_COLOR: '1' });
    expect(plain).toContain('hello');
    expect(plain).not.toMatch(ansi);
    expect(JSON.parse(capture(false, {}))).toMatchObject({ msg: 'hello', node: 'n1', role: 'all' });
  });

  it('follows no-color.org: an empty NO_COLOR is unset', () => {
    expect(wantsColor({ isTTY: true, env: { NO_COLOR: '' } })).toBe(true);
    expect(wantsColor({ isTTY: true, env: { NO_COLOR: 'yes' } })).toBe(false);
    expect(wantsColor({ isTTY: false, env: {} })).toBe(false);
  });
});
