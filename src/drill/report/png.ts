// The timeline as PNG, when a renderer is at hand: rsvg-convert (Debian's librsvg2-bin). A
// missing renderer is not an error: the report says there is no PNG and why.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The renderer's outcome: the PNG written, or the reason there is none. */
export type PngOutcome = { readonly written: true } | { readonly written: false; readonly reason: string };

/** Renders `svgPath` to `pngPath` with rsvg-convert. */
export async function renderPng(svgPath: string, pngPath: string): Promise<PngOutcome> {
  try {
    await run('rsvg-convert', ['--format', 'png', '--output', pngPath, svgPath], { timeout: 30_000 });
    return { written: true };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      return { written: false, reason: 'rsvg-convert (Debian librsvg2-bin) is not installed' };
    return {
      written: false,
      reason: `rsvg-convert failed: ${(e.stderr || e.message).trim().split('\n')[0]}`,
    };
  }
}
