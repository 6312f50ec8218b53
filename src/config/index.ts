// The configuration contract of a Stratus process: read by the command line (which loads it)
// and by the process wiring (which uses it), so that neither depends on the other.
export { ConfigError, isConfigError } from './errors.js';
export { type ConfigSources, type Env, loadConfig } from './load.js';
export { optionsAt } from './options-at.js';
export {
  type Config,
  DEFAULT_DRAIN_DELAY_MS,
  defaultNodeId,
  LOG_LEVELS,
  type LogLevel,
  ROLES,
  type Role,
  SETTINGS,
  type SettingRow,
} from './settings.js';
export { type SettingLine, settingsMarkdown, settingsTable } from './table.js';
