import { type Config, SETTINGS, type SettingRow } from './settings.js';

/**
 * The options of one component built from every setting whose row says it goes there: rows
 * with `to: 'worker.heartbeatMs'` give `optionsAt(config, 'worker')` its `heartbeatMs`.
 * Settings left unset (the kernel applies its own default) are left out, so the result can
 * be spread over a component's options. Dotted paths below the component nest.
 */
export function optionsAt(config: Config, component: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS as Record<string, SettingRow<unknown>>)) {
    if (!s.to?.startsWith(`${component}.`)) continue;
    const value = (config as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const path = s.to.slice(component.length + 1).split('.');
    let at = out;
    for (const part of path.slice(0, -1)) {
      at[part] ??= {};
      at = at[part] as Record<string, unknown>;
    }
    at[path.at(-1)!] = value;
  }
  return out;
}
