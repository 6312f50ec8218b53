import { SETTINGS, type SettingRow } from './settings.js';

/** One line of the settings table, as `--help` and the docs show it. */
export interface SettingLine {
  /** The name in a config file. */
  name: string;
  flag: string;
  env: string;
  expected: string;
  /** The default as text: a value, a rule, the kernel's own, or `none`. */
  default: string;
  meaning: string;
  /** The component option it sets (`worker.heartbeatMs`), or `process` for the wiring's own. */
  goesTo: string;
  /** False for the one setting a config file cannot hold (the file's own path). */
  inFile: boolean;
}

function defaultText(s: SettingRow<unknown>): string {
  if (s.kernelDefault !== undefined) return s.kernelDefault;
  if (s.default === undefined || typeof s.default === 'function') return 'none';
  return String(s.default);
}

/** Every setting, in table order. */
export function settingsTable(): SettingLine[] {
  return Object.entries(SETTINGS as Record<string, SettingRow<unknown>>).map(([name, s]) => ({
    name,
    flag: `--${s.flag}`,
    env: s.env,
    expected: s.kind.expected,
    default: defaultText(s),
    meaning: s.meaning,
    goesTo: s.to ?? 'process',
    inFile: s.inFile !== false,
  }));
}

/** The table in Markdown, as docs/operations.md carries it (a test holds the two equal). */
export function settingsMarkdown(): string {
  const lines = settingsTable().map(
    (l) =>
      `| \`${l.flag}\` | \`${l.env}\` | ${l.inFile ? `\`${l.name}\`` : '-'} | ${l.default} | ${l.expected} | ${l.meaning} | ${l.goesTo} |`,
  );
  return [
    '| flag | environment | config file | default | allowed | meaning | goes to |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
}
