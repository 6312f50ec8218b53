import { SETTINGS_HELP } from './config.js';

export function helpText(version: string): string {
  const rows = SETTINGS_HELP.map((s) => `  --${s.flag.padEnd(22)} ${s.env.padEnd(20)} ${s.expected}`);
  return `stratus ${version}: a highly available control plane for a small cloud

Usage:
  stratus start [settings]     run the control plane (until SIGTERM or SIGINT)
  stratus migrate [settings]   apply pending database migrations and exit
  stratus sim [settings]       run the simulated cloud (stratus sim --help for its settings)
  stratus --help | --version

Settings (flag, environment variable, allowed values); flags win over the environment:
${rows.join('\n')}

Defaults: role all, host 127.0.0.1, port 8080, node id <hostname>-<pid>, data dir ./.stratus,
log level info, shutdown timeout 30000 ms. Without a database URL, stratus runs as one
process on an embedded PostgreSQL in the data dir.

Exit status: 0 success, 1 failure, 2 invalid command line or setting.
`;
}
